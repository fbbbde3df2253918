// Run an edgesal .tflite saliency model on Android (LiteRT / TensorFlow Lite Interpreter).
//
// Gradle: implementation("com.google.ai.edge.litert:litert:1.4.0")   // or org.tensorflow:tensorflow-lite
//         implementation("com.google.flatbuffers:flatbuffers-java:24.3.25") // only to read metadata
//
// Everything the app needs is in the model's edgesal metadata (also in <model>.tflite.json):
// input_hw, mean, std, layout ("nhwc" default), input_dtype ("int8" or "float32") with
// input_quantization {scale, zero_point}, output_kind ("log_density" or "sigmoid").
package org.edgesal.demo

import android.graphics.Bitmap
import android.graphics.Color
import org.json.JSONObject
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.schema.Model   // FlatBuffers classes generated from schema.fbs
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.math.exp
import kotlin.math.roundToInt

class SaliencyModel(private val modelBuffer: ByteBuffer, threads: Int = 2) {
    val meta: JSONObject = readEdgesalMetadata(modelBuffer)
    private val interpreter = Interpreter(modelBuffer, Interpreter.Options().setNumThreads(threads))
    private val h = meta.getJSONArray("input_hw").getInt(0)
    private val w = meta.getJSONArray("input_hw").getInt(1)
    private val mean = FloatArray(3) { meta.getJSONArray("mean").getDouble(it).toFloat() }
    private val std = FloatArray(3) { meta.getJSONArray("std").getDouble(it).toFloat() }
    private val nhwc = meta.getString("layout") == "nhwc"
    private val input = interpreter.getInputTensor(0)
    private val int8Input = input.dataType() == DataType.INT8
    private val scale = input.quantizationParams().scale
    private val zeroPoint = input.quantizationParams().zeroPoint

    /** Bitmap → saliency heat map Bitmap (w×h of the model; scale it to the photo for display). */
    fun predict(photo: Bitmap): Bitmap {
        val scaled = Bitmap.createScaledBitmap(photo, w, h, true)  // bilinear, like training
        val pixels = IntArray(w * h).also { scaled.getPixels(it, 0, w, 0, 0, w, h) }
        val inBuf = ByteBuffer.allocateDirect(input.numBytes()).order(ByteOrder.nativeOrder())
        fun put(v: Float) {  // v = (rgb/255 - mean) / std
            if (int8Input) inBuf.put(((v / scale).roundToInt() + zeroPoint).coerceIn(-128, 127).toByte())
            else inBuf.putFloat(v)
        }
        fun value(p: Int, c: Int): Float {
            val rgb = when (c) { 0 -> Color.red(p); 1 -> Color.green(p); else -> Color.blue(p) }
            return (rgb / 255f - mean[c]) / std[c]
        }
        if (nhwc) for (p in pixels) for (c in 0 until 3) put(value(p, c))
        else for (c in 0 until 3) for (p in pixels) put(value(p, c))
        val out = ByteBuffer.allocateDirect(h * w * 4).order(ByteOrder.nativeOrder())
        interpreter.run(inBuf.rewind(), out)                        // output is float32 (head kept float)
        val raw = FloatArray(h * w).also { out.rewind(); out.asFloatBuffer().get(it) }
        val sal = if (meta.getString("output_kind") == "log_density") raw.map { exp(it) }
                  else raw.map { 1f / (1f + exp(-it)) }
        val max = sal.maxOrNull()?.takeIf { it > 0f } ?: 1f
        val colours = IntArray(h * w) { i -> heat(sal[i] / max) }   // 1×H×W×1 and 1×1×H×W share this order
        return Bitmap.createBitmap(colours, w, h, Bitmap.Config.ARGB_8888)
    }

    private fun heat(v: Float): Int {  // jet-like colour map, alpha grows with saliency
        fun ch(x: Float) = (255 * (1.5f - kotlin.math.abs(4 * v - x)).coerceIn(0f, 1f)).toInt()
        return Color.argb((200 * kotlin.math.sqrt(v)).toInt(), ch(3f), ch(2f), ch(1f))
    }

    companion object {
        /** The JSON stored under the flatbuffer Model.metadata entry named "edgesal". */
        fun readEdgesalMetadata(buffer: ByteBuffer): JSONObject {
            val model = Model.getRootAsModel(buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN))
            for (i in 0 until model.metadataLength()) {
                val entry = model.metadata(i)
                if (entry.name() == "edgesal") {
                    val bytes = model.buffers(entry.buffer().toInt()).dataAsByteBuffer()
                    val array = ByteArray(bytes.remaining()).also { bytes.get(it) }
                    return JSONObject(String(array, Charsets.UTF_8))
                }
            }
            error("no edgesal metadata in this model")
        }
    }
}
