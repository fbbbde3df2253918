package org.edgesal.saliency

import android.content.Context
import android.graphics.Bitmap
import android.graphics.Point
import android.graphics.Rect
import org.edgesal.saliency.core.CropSearch
import org.edgesal.saliency.core.HeatMap
import org.edgesal.saliency.core.ModelInfo
import org.edgesal.saliency.core.Preprocess
import org.edgesal.saliency.core.Quantization
import org.edgesal.saliency.core.SaliencyMap
import org.edgesal.saliency.core.TfliteMetadata
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate
import java.io.Closeable
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

/** Where the model runs. GPU and NNAPI fall back to the CPU (XNNPACK) when they cannot load it. */
enum class Accelerator { CPU, GPU, NNAPI }

/**
 * An edgesal `.tflite` saliency model: [predict] a map from a Bitmap, then [heatMap],
 * [salientPoint] or [bestCrop] (aspect = width / height). Not thread-safe: one per thread.
 */
class SaliencyModel(model: ByteBuffer, accelerator: Accelerator = Accelerator.CPU, threads: Int = 4) : Closeable {
    private var delegate: Delegate? = null
    private val interpreter: Interpreter
    /** The accelerator actually in use (after any fallback). */
    val accelerator: Accelerator
    val info: ModelInfo

    init {
        val (interp, used) = open(model, accelerator, threads)
        interpreter = interp
        this.accelerator = used
        val meta = requireNotNull(TfliteMetadata(model).edgesal()) { "not an edgesal model: no edgesal metadata" }
        info = ModelInfo.fromMetadata(meta, interpreter.getInputTensor(0).name())
    }

    private fun open(model: ByteBuffer, wanted: Accelerator, threads: Int): Pair<Interpreter, Accelerator> {
        if (wanted != Accelerator.CPU) {
            try {
                val d = when (wanted) {
                    Accelerator.GPU -> CompatibilityList().let {
                        check(it.isDelegateSupportedOnThisDevice) { "GPU delegate unsupported" }
                        GpuDelegate(it.bestOptionsForThisDevice)
                    }
                    else -> NnApiDelegate()
                }
                delegate = d
                return Interpreter(model, Interpreter.Options().addDelegate(d)) to wanted
            } catch (e: Exception) {  // IllegalArgumentException/IllegalStateException from the delegate
                delegate?.close()
                delegate = null
            }
        }
        return Interpreter(model, Interpreter.Options().setNumThreads(threads).setUseXNNPACK(true)) to Accelerator.CPU
    }

    /** The saliency map at the model's resolution (a density summing to 1 for log-density models). */
    fun predict(photo: Bitmap): SaliencyMap {
        val scaled = Bitmap.createScaledBitmap(photo, info.width, info.height, true)  // bilinear, as edgesal
        val argb = IntArray(info.width * info.height).also { scaled.getPixels(it, 0, info.width, 0, 0, info.width, info.height) }
        val output = interpreter.getOutputTensor(0)
        val raw = ByteBuffer.allocateDirect(output.numBytes()).order(ByteOrder.nativeOrder())
        interpreter.run(Preprocess.inputTensor(argb, info), raw)
        raw.rewind()
        val values = if (output.dataType() == DataType.INT8) {
            val q = Quantization(output.quantizationParams().scale, output.quantizationParams().zeroPoint)
            FloatArray(info.width * info.height) { q.dequantize(raw.get().toInt()) }
        } else {
            FloatArray(info.width * info.height) { raw.getFloat() }
        }
        return SaliencyMap.fromOutput(values, info)
    }

    /** The photo with the heat map blended on (the map resized to the photo). */
    fun heatMap(photo: Bitmap, map: SaliencyMap = predict(photo)): Bitmap {
        val w = photo.width
        val h = photo.height
        val pixels = IntArray(w * h).also { photo.getPixels(it, 0, w, 0, 0, w, h) }
        val blended = HeatMap.overlay(pixels, map.resized(h, w).values)
        return Bitmap.createBitmap(blended, w, h, Bitmap.Config.ARGB_8888)
    }

    /** The most salient point, in photo pixels. */
    fun salientPoint(photo: Bitmap, map: SaliencyMap = predict(photo)): Point {
        val (x, y) = map.salientPoint()
        return Point(((x + 0.5f) * photo.width / map.width).toInt(), ((y + 0.5f) * photo.height / map.height).toInt())
    }

    /**
     * The crop of [aspect] (width / height, e.g. 9.0 / 16) keeping the most saliency, in photo
     * pixels. The search runs on the map resized to at most [maxSide] pixels (the photo's size
     * when smaller, which is what `edgesal crop` does) and is scaled back.
     */
    fun bestCrop(photo: Bitmap, aspect: Double, zoom: Double = 1.0, map: SaliencyMap = predict(photo),
                 maxSide: Int = 512): Rect {
        val k = minOf(1.0, maxSide.toDouble() / maxOf(photo.width, photo.height))
        val work = map.resized(maxOf(1, (photo.height * k).toInt()), maxOf(1, (photo.width * k).toInt()))
        val c = CropSearch.bestCrop(work, aspect, zoom)
        return Rect((c.x / k).toInt(), (c.y / k).toInt(), minOf(photo.width, ((c.x + c.w) / k).toInt()),
            minOf(photo.height, ((c.y + c.h) / k).toInt()))
    }

    override fun close() {
        interpreter.close()
        delegate?.close()
    }

    companion object {
        /** Memory-map [asset] (stored uncompressed: `noCompress += "tflite"`) from the app's assets. */
        fun fromAsset(context: Context, asset: String = "saliency.tflite", accelerator: Accelerator = Accelerator.CPU,
                      threads: Int = 4): SaliencyModel {
            context.assets.openFd(asset).use { fd ->
                FileInputStream(fd.fileDescriptor).channel.use { channel ->
                    val buffer = channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
                    return SaliencyModel(buffer, accelerator, threads)
                }
            }
        }
    }
}
