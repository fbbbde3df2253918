package org.edgesal.saliency.core

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.system.exitProcess

/**
 * JVM checks of the core against references written by Python (tests/test_android.py):
 * `CoreTestKt CASES.json` — preprocessing bytes, crops, heat-map colours, and the metadata
 * of each exported `.tflite` listed in the cases. Prints one line per failure, exits 1 if any.
 */
private val failures = mutableListOf<String>()
private var checks = 0

private fun check(ok: Boolean, what: () -> String) {
    checks++
    if (!ok) failures.add(what())
}

@Suppress("UNCHECKED_CAST")
private fun Any?.obj() = this as Map<String, Any?>
private fun Any?.list() = this as List<Any?>
private fun Any?.num() = this as Double

private fun info(case: Map<String, Any?>): ModelInfo = ModelInfo.fromMetadata(case["meta"].obj(), case["input_name"] as String)

private fun checkPreprocess(case: Map<String, Any?>, argb: IntArray) {
    val info = info(case)
    val got = Preprocess.inputTensor(argb, info, ByteOrder.LITTLE_ENDIAN)
    val want = case["expected"].list()
    for (i in want.indices) {
        val ok = if (info.input == InputKind.INT8) got.get(i).toInt() == want[i].num().toInt()
        else got.getFloat(4 * i).toRawBits() == want[i].num().toFloat().toRawBits()
        check(ok) { "preprocess ${case["name"]}: element $i differs" }
        if (!ok) return
    }
    check(got.capacity() == want.size * (if (info.input == InputKind.INT8) 1 else 4)) { "preprocess ${case["name"]}: size" }
    val real = case["dequantized"]?.list() ?: return
    val q = info.inputQuantization!!
    val bad = real.indices.count { q.dequantize(got.get(it).toInt()).toRawBits() != real[it].num().toFloat().toRawBits() }
    check(bad == 0) { "dequantize ${case["name"]}: $bad values differ" }
}

private fun checkCrop(case: Map<String, Any?>, map: SaliencyMap) {
    val c = CropSearch.bestCrop(map, case["ratio"].num(), case["zoom"].num(), case["sharpen"].num(), case["center_weight"].num())
    val want = case["expected"].list().map { it.num() }
    check(listOf(c.x, c.y, c.w, c.h) == want.take(4).map { it.toInt() } && kotlin.math.abs(c.score - want[4]) < 1e-6) {
        "crop ${case["aspect"]} zoom ${case["zoom"]}: got $c, want $want"
    }
}

private fun checkModel(case: Map<String, Any?>) {
    val bytes = File(case["path"] as String).readBytes()
    val meta = TfliteMetadata(ByteBuffer.wrap(bytes)).edgesal()
    check(meta != null) { "${case["path"]}: no edgesal metadata" }
    val info = ModelInfo.fromMetadata(meta ?: return, case["input_name"] as String)
    check(info.input.name == case["input_kind"]) { "${case["path"]}: input ${info.input}, want ${case["input_kind"]}" }
    check(listOf(info.height, info.width) == case["input_hw"].list().map { it.num().toInt() }) { "${case["path"]}: input_hw" }
    check(info.inputQuantization?.scale == (case["scale"] as Double?)?.toFloat()) { "${case["path"]}: scale" }
    check(TfliteMetadata(ByteBuffer.wrap(bytes)).entry(TfliteMetadata.STANDARD)?.let {
        String(it, 4, 4, Charsets.US_ASCII) == "M001"
    } == true) { "${case["path"]}: no standard metadata M001" }
}

fun main(args: Array<String>) {
    val cases = Json.parse(File(args[0]).readText()).obj()
    val argb = cases["argb"].list().map { it.num().toLong().toInt() }.toIntArray()
    cases["preprocess"].list().forEach { checkPreprocess(it.obj(), argb) }
    val m = cases["map"].obj()
    val map = SaliencyMap(m["h"].num().toInt(), m["w"].num().toInt(), m["values"].list().map { it.num().toFloat() }.toFloatArray())
    cases["crops"].list().forEach { checkCrop(it.obj(), map) }
    cases["jet"].list().forEach { pair ->
        val (v, want) = pair.list().map { it.num() }
        check(HeatMap.jet(v) == want.toLong().toInt()) { "jet($v) = ${HeatMap.jet(v).toUInt().toString(16)}, want ${want.toLong().toString(16)}" }
    }
    val overlay = HeatMap.overlay(argb, map.values)
    cases["overlay"].list().forEachIndexed { i, want ->
        val got = overlay[i]
        val close = (0..2).all { k -> kotlin.math.abs(((got shr (8 * k)) and 0xFF) - ((want.num().toLong().toInt() shr (8 * k)) and 0xFF)) <= 1 }
        check(close) { "overlay pixel $i: ${got.toUInt().toString(16)} vs ${want.num().toLong().toString(16)}" }
    }
    val point = map.salientPoint()
    check(point.toList() == cases["salient_point"].list().map { it.num().toInt() }) { "salient point $point" }
    cases["models"].list().forEach { checkModel(it.obj()) }
    failures.forEach { System.err.println("FAIL $it") }
    println("kotlin core: $checks checks, ${failures.size} failed")
    exitProcess(if (failures.isEmpty()) 0 else 1)
}
