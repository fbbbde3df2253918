package org.edgesal.saliency.core

import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Reads named `Model.metadata` entries of a `.tflite` FlatBuffer (TFLite schema: Model field 4
 * = buffers, field 6 = metadata; Metadata = name, buffer; Buffer = data, offset, size) without
 * generated classes: `edgesal` holds edgesal's JSON, `TFLITE_METADATA` the standard metadata.
 */
class TfliteMetadata(model: ByteBuffer) {
    private val buf: ByteBuffer = model.duplicate().order(ByteOrder.LITTLE_ENDIAN)

    /** The bytes of the metadata entry [name], or null when the model has none. */
    fun entry(name: String): ByteArray? {
        val root = buf.getInt(0)
        val metadata = vector(root, 6) ?: return null
        val buffers = vector(root, 4) ?: return null
        for (i in 0 until buf.getInt(metadata)) {
            val entry = table(metadata, i)
            if (string(entry, 0) == name) return bufferBytes(table(buffers, uint(entry, 1)))
        }
        return null
    }

    /** edgesal's metadata (the JSON object of entry `edgesal`), or null. */
    fun edgesal(): Map<String, Any?>? = entry(EDGESAL)?.let {
        @Suppress("UNCHECKED_CAST")
        Json.parse(String(it, Charsets.UTF_8)) as Map<String, Any?>
    }

    private fun field(table: Int, id: Int): Int {
        val vtable = table - buf.getInt(table)
        val offset = if (4 + 2 * id < buf.getShort(vtable)) buf.getShort(vtable + 4 + 2 * id).toInt() else 0
        return if (offset == 0) 0 else table + offset
    }

    private fun deref(at: Int): Int = at + buf.getInt(at)

    private fun vector(table: Int, id: Int): Int? = field(table, id).takeIf { it != 0 }?.let(this::deref)

    private fun table(vector: Int, i: Int): Int = deref(vector + 4 + 4 * i)

    private fun uint(table: Int, id: Int): Int = field(table, id).let { if (it == 0) 0 else buf.getInt(it) }

    private fun string(table: Int, id: Int): String? = vector(table, id)?.let { at ->
        ByteArray(buf.getInt(at)) { buf.get(at + 4 + it) }.toString(Charsets.UTF_8)
    }

    private fun bufferBytes(buffer: Int): ByteArray {
        val offset = field(buffer, 1).let { if (it == 0) 0L else buf.getLong(it) }
        if (offset > 1) {  // large models keep buffers after the FlatBuffer (offset, size)
            val size = buf.getLong(field(buffer, 2)).toInt()
            return ByteArray(size) { buf.get(offset.toInt() + it) }
        }
        val data = vector(buffer, 0) ?: return ByteArray(0)
        return ByteArray(buf.getInt(data)) { buf.get(data + 4 + it) }
    }

    companion object {
        const val EDGESAL = "edgesal"
        const val STANDARD = "TFLITE_METADATA"
    }
}
