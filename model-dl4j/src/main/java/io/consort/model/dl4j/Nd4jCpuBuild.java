package io.consort.model.dl4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which of ND4J's native builds JavaCPP loads: the AVX2 build on an x86-64 Linux CPU that has every
 * instruction set that build was compiled for, the generic x86-64 build everywhere else.
 *
 * <p>The choice is JavaCPP's system property {@value #EXTENSION_PROPERTY}, read once when ND4J first
 * loads; {@link #apply()} sets it (before that) unless the command line already has: {@code -avx2}
 * or the empty string (the generic build). Both builds ship; JavaCPP falls back to the generic
 * build when the AVX2 one is missing from the class path. The explicit empty value matters: with the
 * AVX2 jar on the class path and the property unset, JavaCPP 1.5.7 loads the AVX2 build whatever
 * the CPU (seen here), and ND4J, on a CPU without AVX2, logs "CPU Feature Check Failed" and calls
 * {@code System.exit}.
 *
 * <p>The AVX2 build is compiled with {@code -msse4.1 -msse4.2 -mavx -mavx2 -mfma -mf16c}
 * (libnd4j's CMake), so all six must appear in the CPU's {@code /proc/cpuinfo} flags; a CPU (or a
 * virtual machine) that hides any of them gets the generic build.
 */
final class Nd4jCpuBuild {
  static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";
  /** The extension of ND4J's AVX2 build (the Maven classifier {@code linux-x86_64-avx2}). */
  static final String AVX2 = "-avx2";
  /** The generic x86-64 build: no extension. */
  static final String GENERIC = "";
  /** The {@code /proc/cpuinfo} flags the AVX2 build's compiler options need. */
  static final Set<String> AVX2_FLAGS = Set.of("sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c");
  private static final String AVX2_LIBRARY =
      "org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64" + AVX2 + "/libnd4jcpu.so";

  private Nd4jCpuBuild() {}

  /**
   * Sets {@value #EXTENSION_PROPERTY} for this CPU unless it is set (also to the empty string);
   * has no effect once ND4J has loaded. Never throws: when the CPU cannot be read, the generic
   * build.
   */
  static void apply() {
    if (System.getProperty(EXTENSION_PROPERTY) != null) {
      return;
    }
    boolean linuxX86 = isLinuxX86(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    System.setProperty(EXTENSION_PROPERTY, extensionFor(linuxX86,
        linuxX86 ? cpuFlags(readCpuInfo()) : Set.of(),
        Nd4jCpuBuild.class.getClassLoader().getResource(AVX2_LIBRARY) != null));
  }

  /**
   * The extension for a CPU: {@link #AVX2} when the platform is x86-64 Linux, the CPU has all of
   * {@link #AVX2_FLAGS} and the AVX2 build is on the class path; {@link #GENERIC} otherwise.
   */
  static String extensionFor(boolean linuxX86, Set<String> cpuFlags, boolean avx2BuildPresent) {
    return linuxX86 && avx2BuildPresent && cpuFlags.containsAll(AVX2_FLAGS) ? AVX2 : GENERIC;
  }

  static boolean isLinuxX86(String osName, String osArch) {
    String arch = osArch.toLowerCase(Locale.ROOT);
    return osName.toLowerCase(Locale.ROOT).startsWith("linux")
        && (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x86-64"));
  }

  /**
   * The flags of the first {@code flags} line of {@code /proc/cpuinfo}'s text (the kernel lists
   * the features every CPU shares the same way on each line); none when there is no such line.
   */
  static Set<String> cpuFlags(List<String> cpuInfoLines) {
    for (String line : cpuInfoLines) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equals("flags")) {
        return Arrays.stream(line.substring(colon + 1).strip().split("\\s+"))
            .filter(flag -> !flag.isEmpty()).collect(Collectors.toUnmodifiableSet());
      }
    }
    return Set.of();
  }

  private static List<String> readCpuInfo() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1);
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
