// Versions: Android Gradle Plugin 8.7, Kotlin 2.1 (the core is also compiled in edgesal's CI
// with kotlinc from the npm package kotlin-compiler, see tests/test_android.py).
plugins {
    id("com.android.library") version "8.7.3" apply false
    id("com.android.application") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.1.0" apply false
}
