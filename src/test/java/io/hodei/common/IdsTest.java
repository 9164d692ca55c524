package io.hodei.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class IdsTest {

  @Test
  void tenantAndPoolIdsAreLowerCaseLettersDigitsAndDashesUpTo63() {
    for (Pattern rule : List.of(Ids.TENANT, Ids.POOL)) {
      assertThat(rule.matcher("acme").matches()).isTrue();
      assertThat(rule.matcher("a-1").matches()).isTrue();
      assertThat(rule.matcher("0abc").matches()).isTrue();
      assertThat(rule.matcher("a".repeat(Ids.MAX_LENGTH)).matches()).isTrue();
      assertThat(rule.matcher("a".repeat(Ids.MAX_LENGTH + 1)).matches()).isFalse();
      assertThat(rule.matcher("-abc").matches()).isFalse();
      assertThat(rule.matcher("Acme").matches()).isFalse();
      assertThat(rule.matcher("a_b").matches()).isFalse();
      assertThat(rule.matcher("").matches()).isFalse();
    }
  }

  @Test
  void generatedIdsCarryTheirPrefixAndPassTheRules() {
    String id = Ids.generate("pool-");
    assertThat(id).startsWith("pool-").hasSize("pool-".length() + 18);
    assertThat(Ids.POOL.matcher(id).matches()).isTrue();
    assertThat(Ids.generate("w-")).isNotEqualTo(Ids.generate("w-"));
  }

  /** The shared package sits below every domain: it must not import one. */
  @Test
  void commonImportsNoDomainPackage() throws IOException {
    Pattern domainImport = Pattern.compile("^import (static )?io\\.hodei\\.(?!common\\.)", Pattern.MULTILINE);
    try (Stream<Path> files = Files.list(Path.of("src/main/java/io/hodei/common"))) {
      List<String> offenders = files.filter(f -> f.toString().endsWith(".java"))
          .filter(f -> {
            try {
              return domainImport.matcher(Files.readString(f)).find();
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          })
          .map(Path::toString).toList();
      assertThat(offenders).isEmpty();
    }
  }
}
