package org.edgesal.saliency.core

import kotlin.math.abs
import kotlin.math.sqrt

/** Heat-map colours and overlay, as edgesal's `prediction._jet` / `overlay` (ARGB ints). */
object HeatMap {
    /** Jet colour of [v] in [0, 1] (clipped) as opaque ARGB. */
    fun jet(v: Double): Int {
        val x = v.coerceIn(0.0, 1.0)
        fun channel(c: Int) = ((1.5 - abs(4 * x - c)).coerceIn(0.0, 1.0) * 255).toInt()
        return (0xFF shl 24) or (channel(3) shl 16) or (channel(2) shl 8) or channel(1)
    }

    /** Min-max normalised copy of [map] (all zeros when the map is constant). */
    fun minMax(map: FloatArray): FloatArray {
        val lo = map.minOrNull() ?: 0f
        val shifted = FloatArray(map.size) { map[it] - lo }
        val hi = shifted.maxOrNull() ?: 0f
        return if (hi > 0) FloatArray(map.size) { shifted[it] / hi } else shifted
    }

    /** Jet colours of the min-max normalised [map]. */
    fun colours(map: FloatArray): IntArray = minMax(map).let { s -> IntArray(s.size) { jet(s[it].toDouble()) } }

    /** Blend the heat map of [map] onto [image] (same size), weight `alpha · sqrt(s)` per pixel. */
    fun overlay(image: IntArray, map: FloatArray, alpha: Float = 0.5f): IntArray {
        val s = minMax(map)
        return IntArray(image.size) { i ->
            val heat = jet(s[i].toDouble())
            val w = alpha * sqrt(s[i])
            var argb = 0xFF shl 24
            for (shift in intArrayOf(16, 8, 0)) {
                val blended = ((image[i] shr shift) and 0xFF) * (1 - w) + ((heat shr shift) and 0xFF) * w
                argb = argb or (blended.toInt().coerceIn(0, 255) shl shift)
            }
            argb
        }
    }
}
