package org.edgesal.sample

import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.ImageDecoder
import android.graphics.Paint
import android.net.Uri
import android.os.Bundle
import android.widget.Button
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import org.edgesal.saliency.Accelerator
import org.edgesal.saliency.SaliencyModel
import java.util.concurrent.Executors

/** Pick a photo from the gallery or take one → heat-map overlay with the best crop drawn on it. */
class MainActivity : ComponentActivity() {
    private val worker = Executors.newSingleThreadExecutor()
    private val aspects = listOf("1:1" to 1.0, "9:16" to 9.0 / 16, "16:9" to 16.0 / 9, "4:5" to 4.0 / 5)
    private var aspect = 0
    private var photo: Bitmap? = null
    private lateinit var model: SaliencyModel
    private lateinit var image: ImageView
    private lateinit var status: TextView

    private val pick = registerForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri -> uri?.let(::load) }
    private val camera = registerForActivityResult(ActivityResultContracts.TakePicturePreview()) { bmp -> bmp?.let(::show) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        image = ImageView(this).apply { adjustViewBounds = true }
        status = TextView(this)
        val bar = LinearLayout(this).apply {
            addView(button("Gallery") { pick.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly)) })
            addView(button("Camera") { camera.launch(null) })
            addView(button("Aspect") { aspect = (aspect + 1) % aspects.size; photo?.let(::show) })
        }
        setContentView(LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            addView(bar)
            addView(status)
            addView(image)
        })
        worker.execute {  // GPU when the device supports it, else XNNPACK on 4 threads
            model = SaliencyModel.fromAsset(this, accelerator = Accelerator.GPU)
            runOnUiThread { status.text = "model on ${model.accelerator}; pick a photo" }
        }
    }

    private fun button(label: String, onClick: () -> Unit) = Button(this).apply { text = label; setOnClickListener { onClick() } }

    private fun load(uri: Uri) {
        val source = ImageDecoder.createSource(contentResolver, uri)
        show(ImageDecoder.decodeBitmap(source) { decoder, _, _ -> decoder.allocator = ImageDecoder.ALLOCATOR_SOFTWARE })
    }

    private fun show(bitmap: Bitmap) {
        photo = bitmap
        val (label, ratio) = aspects[aspect]
        worker.execute {
            val start = System.nanoTime()
            val map = model.predict(bitmap)
            val ms = (System.nanoTime() - start) / 1e6
            val overlay = model.heatMap(bitmap, map).copy(Bitmap.Config.ARGB_8888, true)
            val crop = model.bestCrop(bitmap, ratio, map = map)
            val stroke = maxOf(4f, bitmap.width / 150f)
            Canvas(overlay).drawRect(crop, Paint().apply { style = Paint.Style.STROKE; strokeWidth = stroke; color = -1 })
            runOnUiThread {
                image.setImageBitmap(overlay)
                status.text = "%s crop %s · %.1f ms on %s".format(label, crop.toShortString(), ms, model.accelerator)
            }
        }
    }

    override fun onDestroy() {
        worker.execute { if (::model.isInitialized) model.close() }
        worker.shutdown()
        super.onDestroy()
    }
}
