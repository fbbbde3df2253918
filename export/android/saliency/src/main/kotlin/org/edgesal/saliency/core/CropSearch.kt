package org.edgesal.saliency.core

import kotlin.math.ceil
import kotlin.math.exp
import kotlin.math.floor
import kotlin.math.ln
import kotlin.math.max
import kotlin.math.min
import kotlin.math.pow

/** A crop rectangle in map pixels and the fraction of the map's mass inside it. */
data class Crop(val x: Int, val y: Int, val w: Int, val h: Int, val score: Double)

/**
 * Best crop of an aspect ratio on a saliency map: the same objective as edgesal's
 * `edgesal/cropping/search.py` (`best_crop`, method `saliency`): exact max-mass window via a
 * summed-area table, ties to the most central window, optional zoom with its penalty.
 */
object CropSearch {
    const val ZOOM_PENALTY = 0.5
    const val ZOOM_STEP = 1.05
    const val TIE_TOLERANCE = 1e-9
    const val SHARPEN = 1.0
    const val CENTER_WEIGHT = 0.0
    const val CENTER_SIGMA = 0.25

    /** Non-negative map summing to 1 (an all-zero map → uniform). */
    fun normalise(map: SaliencyMap): DoubleArray {
        val m = DoubleArray(map.values.size) { max(map.values[it].toDouble(), 0.0) }
        return if (m.sum() > 0) normalised(m) else DoubleArray(m.size) { 1.0 / m.size }
    }

    private fun normalised(m: DoubleArray): DoubleArray = m.sum().let { t -> DoubleArray(m.size) { m[it] / t } }

    /** The searched map: `(1 − β)·norm(m^γ) + β·centre prior` (γ = [sharpen], β = [centerWeight]). */
    fun objective(plain: DoubleArray, height: Int, width: Int, sharpen: Double = SHARPEN,
                  centerWeight: Double = CENTER_WEIGHT): DoubleArray {
        var m = normalised(plain)
        if (sharpen != 1.0) m = normalised(m.max().let { top -> DoubleArray(m.size) { (m[it] / top).pow(sharpen) } })
        if (centerWeight <= 0) return m
        fun gauss(i: Int, n: Int) = exp(-0.5 * ((i - (n - 1) / 2.0) / (CENTER_SIGMA * n)).pow(2))
        val prior = normalised(DoubleArray(m.size) { gauss(it / width, height) * gauss(it % width, width) })
        return DoubleArray(m.size) { (1 - centerWeight) * m[it] + centerWeight * prior[it] }
    }

    /** (h, w) of the largest crop of `aspectW:aspectH` times [scale] (edgesal's `crop_size` rounding). */
    fun cropSize(height: Int, width: Int, aspect: Double, scale: Double = 1.0): Pair<Int, Int> {
        val (hExact, wExact) = if (width.toDouble() / height >= aspect) {
            height * scale to height * scale * aspect
        } else {
            width * scale / aspect to width * scale
        }
        require(min(hExact, wExact) >= 1) { "the crop would be less than 1 px" }
        return min(height, max(1, floor(hExact + 0.5).toInt())) to min(width, max(1, floor(wExact + 0.5).toInt()))
    }

    /** Crop side scales 1, 1/1.05, … down to 1/[zoom]. */
    fun zoomScales(zoom: Double): List<Double> {
        require(zoom >= 1.0) { "zoom must be ≥ 1" }
        val n = if (zoom > 1) ceil(ln(zoom) / ln(ZOOM_STEP)).toInt() else 0
        return listOf(1.0) + (1..n).map { max(ZOOM_STEP.pow(-it), 1.0 / zoom) }
    }

    private class Table(m: DoubleArray, val height: Int, val width: Int) {
        val sat = Array(height + 1) { DoubleArray(width + 1) }

        init {  // column sums first, then along rows (numpy's cumsum order)
            val col = DoubleArray(width)
            for (y in 0 until height) {
                var row = 0.0
                for (x in 0 until width) {
                    col[x] += m[y * width + x]
                    row += col[x]
                    sat[y + 1][x + 1] = row
                }
            }
        }

        /** (y, x, mass) of the h×w window with the most mass; ties → nearest the centre. */
        fun bestWindow(h: Int, w: Int): Triple<Int, Int, Double> {
            val rows = height - h + 1
            val cols = width - w + 1
            val sums = Array(rows) { y -> DoubleArray(cols) { x -> sat[y + h][x + w] - sat[y][x + w] - sat[y + h][x] + sat[y][x] } }
            val best = sums.maxOf { it.max() }
            val cy = (rows - 1) / 2.0
            val cx = (cols - 1) / 2.0
            var pick = Triple(0, 0, Double.MAX_VALUE)
            for (y in 0 until rows) for (x in 0 until cols) {
                val d = (y - cy) * (y - cy) + (x - cx) * (x - cx)
                if (sums[y][x] >= best - TIE_TOLERANCE && d < pick.third) pick = Triple(y, x, d)
            }
            return Triple(pick.first, pick.second, sums[pick.first][pick.second])
        }
    }

    /** The crop of aspect `width / height` = [aspect] that keeps the most saliency. */
    fun bestCrop(map: SaliencyMap, aspect: Double, zoom: Double = 1.0, sharpen: Double = SHARPEN,
                 centerWeight: Double = CENTER_WEIGHT): Crop {
        val plain = normalise(map)
        val table = Table(objective(plain, map.height, map.width, sharpen, centerWeight), map.height, map.width)
        val (h0, w0) = cropSize(map.height, map.width, aspect)
        val (y0, x0, full) = table.bestWindow(h0, w0)
        var best = intArrayOf(y0, x0, h0, w0)
        var bestGain = 1.0 - ZOOM_PENALTY
        for (scale in zoomScales(zoom).drop(1)) {
            val (h, w) = cropSize(map.height, map.width, aspect, scale)
            val (y, x, mass) = table.bestWindow(h, w)
            val gain = if (full > 0) mass / full - ZOOM_PENALTY * (h * w).toDouble() / (h0 * w0) else 0.0
            if (gain > bestGain + TIE_TOLERANCE) {
                best = intArrayOf(y, x, h, w)
                bestGain = gain
            }
        }
        val (y, x, h, w) = best
        var score = 0.0
        for (row in y until y + h) for (col in x until x + w) score += plain[row * map.width + col]
        return Crop(x, y, w, h, min(score, 1.0))
    }
}
