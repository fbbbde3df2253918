package org.edgesal.saliency.core

/** Affine quantisation of an integer tensor: `real = (q - zeroPoint) * scale`. */
data class Quantization(val scale: Float, val zeroPoint: Int) {
    /** `clamp(rint(v / scale) + zeroPoint)` into [min, max] (rint = half to even, as numpy's round). */
    fun quantize(v: Float, min: Int = -128, max: Int = 127): Int =
        (Math.rint((v / scale).toDouble()).toInt() + zeroPoint).coerceIn(min, max)

    fun dequantize(q: Int): Float = (q - zeroPoint) * scale
}

/** How the model's input tensor holds the image. */
enum class InputKind {
    /** float32 RGB in [0, 1]; the graph normalises (edgesal's default `io=float` export). */
    PIXELS,

    /** float32 `(rgb - mean) / std` (older exports, third-party models). */
    NORMALISED,

    /** int8 of the normalised image (`io=int8`), quantised with [ModelInfo.inputQuantization]. */
    INT8,
}

/** What preprocessing and postprocessing need to know, from edgesal's metadata. */
data class ModelInfo(
    val height: Int,
    val width: Int,
    val mean: FloatArray,
    val std: FloatArray,
    val nhwc: Boolean,
    val input: InputKind,
    val inputQuantization: Quantization?,
    val outputKind: String,
) {
    val logDensity: Boolean get() = outputKind == "log_density"

    companion object {
        /** From edgesal's metadata JSON; [inputName] is the input tensor's name ("…pixels" = [InputKind.PIXELS]). */
        fun fromMetadata(meta: Map<String, Any?>, inputName: String): ModelInfo {
            fun floats(key: String) = (meta[key] as List<*>).map { (it as Double).toFloat() }.toFloatArray()
            val hw = (meta["input_hw"] as List<*>).map { (it as Double).toInt() }
            @Suppress("UNCHECKED_CAST")
            val q = meta["input_quantization"] as Map<String, Any?>?
            val quant = q?.let { Quantization((it["scale"] as Double).toFloat(), (it["zero_point"] as Double).toInt()) }
            val kind = when {
                quant != null -> InputKind.INT8
                inputName.substringBefore(':').substringAfterLast('_') == "pixels" -> InputKind.PIXELS
                else -> InputKind.NORMALISED
            }
            return ModelInfo(hw[0], hw[1], floats("mean"), floats("std"), meta["layout"] != "nchw", kind, quant,
                meta["output_kind"] as String? ?: "log_density")
        }
    }
}
