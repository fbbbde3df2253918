package org.edgesal.saliency.core

import kotlin.math.exp
import kotlin.math.floor

/** A row-major H×W saliency map (a density summing to 1, or probabilities). */
class SaliencyMap(val height: Int, val width: Int, val values: FloatArray) {
    init {
        require(values.size == height * width) { "map has ${values.size} values, not $height×$width" }
    }

    /** (x, y) of the maximum; ties go to the one nearest the centre (as edgesal's crop `point`). */
    fun salientPoint(): Pair<Int, Int> {
        val best = values.maxOrNull() ?: 0f
        val cy = (height - 1) / 2.0
        val cx = (width - 1) / 2.0
        val i = values.indices.filter { values[it] >= best }.minByOrNull {
            val dy = it / width - cy
            val dx = it % width - cx
            dy * dy + dx * dx
        } ?: 0
        return i % width to i / width
    }

    /** Bilinear resize (half-pixel centres, edges clamped: torch `align_corners=False`). */
    fun resized(newHeight: Int, newWidth: Int): SaliencyMap {
        fun axis(size: Int, newSize: Int, i: Int): Triple<Int, Int, Float> {
            val src = ((i + 0.5f) * size / newSize - 0.5f).coerceAtLeast(0f)
            val lo = minOf(floor(src).toInt(), size - 1)
            return Triple(lo, minOf(lo + 1, size - 1), src - lo)
        }
        val out = FloatArray(newHeight * newWidth)
        for (y in 0 until newHeight) {
            val (y0, y1, fy) = axis(height, newHeight, y)
            for (x in 0 until newWidth) {
                val (x0, x1, fx) = axis(width, newWidth, x)
                val top = values[y0 * width + x0] * (1 - fx) + values[y0 * width + x1] * fx
                val bottom = values[y1 * width + x0] * (1 - fx) + values[y1 * width + x1] * fx
                out[y * newWidth + x] = top * (1 - fy) + bottom * fy
            }
        }
        return SaliencyMap(newHeight, newWidth, out)
    }

    companion object {
        /** The model's raw output (float32 values, NHWC or NCHW with one channel) → a map. */
        fun fromOutput(output: FloatArray, info: ModelInfo): SaliencyMap {
            val values = if (info.logDensity) {
                val max = output.maxOrNull() ?: 0f
                val e = FloatArray(output.size) { exp(output[it] - max) }
                val sum = e.sum()
                FloatArray(e.size) { e[it] / sum }
            } else {
                FloatArray(output.size) { 1f / (1f + exp(-output[it])) }
            }
            return SaliencyMap(info.height, info.width, values)
        }
    }
}
