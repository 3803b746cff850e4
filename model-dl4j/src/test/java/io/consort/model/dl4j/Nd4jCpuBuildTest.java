package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The choice of ND4J's native build from injected CPU flags, platform and class path. */
class Nd4jCpuBuildTest {
  /** A Haswell-era server's flags (abridged), with everything the AVX2 build needs. */
  private static final String HASWELL_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge"
      + " mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc"
      + " rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic"
      + " movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm bmi1 avx2 smep bmi2 erms";
  /** A Sandy Bridge's: AVX but no AVX2, FMA or F16C. */
  private static final String SANDY_BRIDGE_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr"
      + " mmx fxsr sse sse2 ht syscall nx rdtscp lm constant_tsc pni pclmulqdq ssse3 cx16 sse4_1"
      + " sse4_2 x2apic popcnt aes xsave avx hypervisor lahf_lm";

  private static Set<String> flags(String line) {
    return Nd4jCpuBuild.cpuFlags(List.of("processor\t: 0", "flags\t\t: " + line, ""));
  }

  @Test
  void avx2CpuOnLinuxX86WithTheAvx2JarGetsTheAvx2Build() {
    assertEquals("-avx2", Nd4jCpuBuild.extensionFor(true, flags(HASWELL_FLAGS), true));
  }

  @Test
  void cpuWithoutAvx2GetsTheGenericBuild_evenWithTheAvx2JarPresent() {
    assertEquals("", Nd4jCpuBuild.extensionFor(true, flags(SANDY_BRIDGE_FLAGS), true));
  }

  @Test
  void cpuMissingAnyOneFlagTheAvx2BuildWasCompiledFor_getsTheGenericBuild() {
    for (String missing : Nd4jCpuBuild.AVX2_FLAGS) {
      Set<String> flags = new HashSet<>(flags(HASWELL_FLAGS));
      assertTrue(flags.remove(missing), missing);
      assertEquals("", Nd4jCpuBuild.extensionFor(true, flags, true), "without " + missing);
    }
  }

  @Test
  void missingAvx2JarGetsTheGenericBuild_onAnAvx2Cpu() {
    assertEquals("", Nd4jCpuBuild.extensionFor(true, flags(HASWELL_FLAGS), false));
  }

  @Test
  void otherPlatformsGetTheGenericBuild() {
    assertEquals("", Nd4jCpuBuild.extensionFor(false, flags(HASWELL_FLAGS), true));
    assertTrue(Nd4jCpuBuild.isLinuxX86("Linux", "amd64"));
    assertTrue(Nd4jCpuBuild.isLinuxX86("Linux", "x86_64"));
    assertFalse(Nd4jCpuBuild.isLinuxX86("Linux", "aarch64"));
    assertFalse(Nd4jCpuBuild.isLinuxX86("Mac OS X", "x86_64"));
    assertFalse(Nd4jCpuBuild.isLinuxX86("Windows 11", "amd64"));
  }

  @Test
  void unreadableOrFlaglessCpuInfoMeansNoFlags() {
    assertEquals(Set.of(), Nd4jCpuBuild.cpuFlags(List.of()));
    assertEquals(Set.of(), Nd4jCpuBuild.cpuFlags(List.of("processor : 0", "model name : x", "flags")));
    assertEquals("", Nd4jCpuBuild.extensionFor(true, Nd4jCpuBuild.cpuFlags(List.of()), true));
  }

  @Test
  void flagsAreReadFromTheFirstFlagsLine_toleratingRepeatsAndBlanks() {
    Set<String> flags = Nd4jCpuBuild.cpuFlags(List.of("vendor_id : AuthenticAMD",
        "flags\t\t:  avx2  avx2 fma\t", "flags : sse2", "vmx flags : ept"));
    assertEquals(Set.of("avx2", "fma"), flags);
    assertFalse(Nd4jCpuBuild.cpuFlags(List.of("vmx flags : avx2")).contains("avx2"));
  }
}
