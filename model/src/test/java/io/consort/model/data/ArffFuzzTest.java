package io.consort.model.data;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: any bytes as a bank's ARFF file (see {@link CsvFuzzTest}). Long run: docs/FUZZING.md.
 */
class ArffFuzzTest {
  @FuzzTest(maxDuration = "20s")
  void anyArffFile_loadsOrIsRefusedByName(byte[] bytes) throws Exception {
    CsvFuzzTest.load(bytes, ".arff");
  }
}
