// Sample app: pick a photo (or take one) → heat-map overlay + the best crop for an aspect ratio.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.edgesal.sample"
    compileSdk = 35
    defaultConfig {
        applicationId = "org.edgesal.sample"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation(project(":saliency"))
    implementation("androidx.activity:activity-ktx:1.9.3")
}
