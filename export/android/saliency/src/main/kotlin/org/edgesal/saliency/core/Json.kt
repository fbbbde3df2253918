package org.edgesal.saliency.core

/** A minimal JSON reader (objects → Map, arrays → List, numbers → Double) for the model's metadata. */
object Json {
    fun parse(text: String): Any? = Reader(text).run { value().also { skipSpace(); check(pos == text.length) { "trailing JSON" } } }

    private class Reader(val s: String) {
        var pos = 0

        fun skipSpace() {
            while (pos < s.length && s[pos].isWhitespace()) pos++
        }

        fun value(): Any? {
            skipSpace()
            return when (val c = s[pos]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) number() else error("bad JSON at $pos")
            }
        }

        private fun literal(word: String, result: Any?): Any? {
            check(s.startsWith(word, pos)) { "bad JSON at $pos" }
            pos += word.length
            return result
        }

        private fun number(): Double {
            val start = pos
            while (pos < s.length && (s[pos].isDigit() || s[pos] in "+-.eE")) pos++
            return s.substring(start, pos).toDouble()
        }

        private fun string(): String {
            val out = StringBuilder()
            pos++
            while (s[pos] != '"') {
                if (s[pos] == '\\') {
                    pos++
                    when (val e = s[pos]) {
                        'u' -> out.append(s.substring(pos + 1, pos + 5).toInt(16).toChar()).also { pos += 4 }
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000c')
                        else -> out.append(e)
                    }
                } else {
                    out.append(s[pos])
                }
                pos++
            }
            pos++
            return out.toString()
        }

        private fun <T> items(close: Char, item: () -> T): List<T> {
            pos++
            val out = mutableListOf<T>()
            skipSpace()
            if (s[pos] == close) return out.also { pos++ }
            while (true) {
                out.add(item())
                skipSpace()
                if (s[pos++] == close) return out
            }
        }

        private fun array(): List<Any?> = items(']') { value() }

        private fun obj(): Map<String, Any?> = items('}') {
            skipSpace()
            val key = string()
            skipSpace()
            check(s[pos++] == ':') { "bad JSON at $pos" }
            key to value()
        }.toMap()
    }
}
