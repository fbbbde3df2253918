package org.edgesal.saliency.core

import java.nio.ByteBuffer
import java.nio.ByteOrder

/** ARGB pixels already at the model's size → the input tensor's bytes (edgesal's preprocessing). */
object Preprocess {
    /** [argb] row-major, `info.width × info.height` (resize first: bilinear, as edgesal does). */
    fun inputTensor(argb: IntArray, info: ModelInfo, order: ByteOrder = ByteOrder.nativeOrder()): ByteBuffer {
        val n = info.height * info.width
        require(argb.size == n) { "expected ${info.width}×${info.height} pixels, got ${argb.size}" }
        val bytesPer = if (info.input == InputKind.INT8) 1 else 4
        val out = ByteBuffer.allocateDirect(3 * n * bytesPer).order(order)
        for (i in 0 until 3 * n) {
            val (pixel, channel) = if (info.nhwc) i / 3 to i % 3 else i % n to i / n
            val v = value(argb[pixel], channel, info)
            if (info.input == InputKind.INT8) out.put(info.inputQuantization!!.quantize(v).toByte()) else out.putFloat(v)
        }
        return out.also { it.rewind() }
    }

    /** Channel [channel] (0 = R) of one ARGB pixel as the model's input value (float, before quantisation). */
    fun value(argb: Int, channel: Int, info: ModelInfo): Float {
        val x = ((argb shr (16 - 8 * channel)) and 0xFF) / 255f
        return if (info.input == InputKind.PIXELS) x else (x - info.mean[channel]) / info.std[channel]
    }
}
