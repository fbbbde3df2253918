// The library: SaliencyModel (Android) + core/ (plain Kotlin, no Android imports, unit-tested on the JVM).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.edgesal.saliency"
    compileSdk = 35
    defaultConfig { minSdk = 24 }
    androidResources { noCompress += "tflite" }  // so the model can be memory-mapped from assets
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    sourceSets["test"].kotlin.srcDir("src/test/kotlin")
}

dependencies {
    implementation("com.google.ai.edge.litert:litert:1.4.0")
    implementation("com.google.ai.edge.litert:litert-gpu:1.4.0")
    implementation("com.google.ai.edge.litert:litert-gpu-api:1.4.0")
}
