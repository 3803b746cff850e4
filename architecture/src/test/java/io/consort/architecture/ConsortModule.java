package io.consort.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarFile;

/**
 * Consort's modules as this test module's class path has them. A module's production classes are
 * those in the jar (or, before packaging, the classes directory) that holds its anchor class, so
 * rules apply to exactly what the module ships, including generated code, and a package shared by
 * two modules ({@code io.consort.protocol.v1}: messages in protocol, gRPC stubs in transport) is no
 * problem.
 */
enum ConsortModule {
  PROTOCOL("protocol", io.consort.protocol.Headers.class),
  TRANSPORT("transport", io.consort.protocol.v1.FederationGrpcService.class),
  IDENTITY("identity", io.consort.identity.PeerIdentity.class),
  SECAGG("secagg", io.consort.secagg.SecAggServer.class),
  PRIVACY("privacy", io.consort.privacy.DpPreconditions.class),
  CERTS("certs", io.consort.certs.CertificateAuthority.class),
  MODEL("model", io.consort.model.train.ModelSpec.class),
  MODEL_DL4J("model-dl4j", io.consort.model.dl4j.Dl4jNetworks.class),
  SPEC("spec", io.consort.spec.JobSpec.class),
  SCORING("scoring", io.consort.scoring.Scorer.class),
  COORDINATOR("coordinator", io.consort.coordinator.CoordinatorService.class),
  PARTICIPANT("participant", io.consort.participant.ParticipantDaemon.class),
  CLI("cli", io.consort.cli.Main.class),
  BENCH("bench", io.consort.bench.model.LocalTrainingBench.class);

  private final String directory;
  private final Class<?> anchor;
  private JavaClasses classes;

  ConsortModule(String directory, Class<?> anchor) {
    this.directory = directory;
    this.anchor = anchor;
  }

  /** The Maven artifact id, as rule descriptions name the module. */
  String artifact() {
    return "consort-" + directory;
  }

  Class<?> anchor() {
    return anchor;
  }

  /** Where the module's classes come from: its jar, or its target/classes directory. */
  Path location() {
    URL url = anchor.getProtectionDomain().getCodeSource().getLocation();
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("unexpected class path entry " + url, e);
    }
  }

  /**
   * Whether {@link #location()} is this module's own build output: its main jar in
   * {@code <module>/target/} or its {@code <module>/target/classes} directory.
   */
  boolean locationIsOwnArtifact() {
    Path location = location();
    String name = location.getFileName().toString();
    boolean jar = location.getParent().endsWith(Path.of(directory, "target"))
        && name.endsWith(".jar") && !name.endsWith("-tests.jar");
    boolean classesDirectory = location.endsWith(Path.of(directory, "target", "classes"));
    return jar || classesDirectory;
  }

  /** The module's production classes (imported once). */
  synchronized JavaClasses classes() {
    if (classes == null) {
      classes = importer().importLocations(List.of(archUnitLocation()));
    }
    return classes;
  }

  /** The production classes of every module, imported together. */
  static JavaClasses allProductionClasses() {
    return importer().importLocations(
        Arrays.stream(values()).map(ConsortModule::archUnitLocation).toList());
  }

  private static ClassFileImporter importer() {
    return new ClassFileImporter().withImportOption(new ImportOption.DoNotIncludeTests());
  }

  private Location archUnitLocation() {
    Path location = location();
    if (Files.isDirectory(location)) {
      return Location.of(location);
    }
    try (JarFile jar = new JarFile(location.toFile())) {
      return Location.of(jar);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + location, e);
    }
  }
}
