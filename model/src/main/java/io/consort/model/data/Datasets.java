package io.consort.model.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Data sets bundled with Consort.
 *
 * <p>German credit: the Statlog (German Credit Data) set by Hans Hofmann, UCI Machine Learning
 * Repository, CC BY 4.0; 1,000 loan applicants, 20 attributes (7 numeric, 13 categorical), class
 * good/bad (700/300). The ARFF file is taken out of the {@code weka-stable} 3.8.6 jar at build time
 * (only the data file; no Weka code is linked or shipped).
 */
public final class Datasets {
  static final String GERMAN_CREDIT_RESOURCE = "/io/consort/model/datasets/credit-g.arff";

  private Datasets() {}

  /** A data file on disk with the schema to load it with. */
  public record BundledDataset(Path file, DataSchema schema) {
    public Table load() throws DataFormatException {
      return DatasetLoader.load(file, schema);
    }
  }

  /**
   * German credit copied into {@code directory} as {@code credit-g.arff}, with its default schema:
   * label {@code class}, positive class {@code bad} (a credit-risk model predicts the bad risk), and
   * the ARFF header's numeric and nominal attributes as the feature columns.
   */
  public static BundledDataset germanCredit(Path directory) throws IOException {
    Path target = directory.resolve("credit-g.arff");
    try (InputStream in = Datasets.class.getResourceAsStream(GERMAN_CREDIT_RESOURCE)) {
      if (in == null) {
        throw new IOException("resource " + GERMAN_CREDIT_RESOURCE + " is missing from the"
            + " consort-model jar (the build extracts it from weka-stable)");
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    try {
      return new BundledDataset(target, DatasetLoader.inferSchema(target, "class", "bad"));
    } catch (DataFormatException e) {
      throw new IllegalStateException("the bundled German credit file does not parse: " + e, e);
    }
  }

  /** German credit in a fresh temporary directory that is deleted when the JVM exits. */
  public static BundledDataset germanCredit() {
    try {
      Path directory = Files.createTempDirectory("consort-german-credit");
      directory.toFile().deleteOnExit();
      BundledDataset dataset = germanCredit(directory);
      dataset.file().toFile().deleteOnExit();
      return dataset;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the bundled German credit data", e);
    }
  }
}
