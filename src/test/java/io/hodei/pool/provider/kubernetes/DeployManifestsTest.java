package io.hodei.pool.provider.kubernetes;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped manifests parse as Kubernetes objects and fit together (and give what the provider uses). */
class DeployManifestsTest {
  static final Path DIR = Path.of("deploy", "kubernetes");

  static List<HasMetadata> objects(String file) throws Exception {
    List<HasMetadata> objects = new ArrayList<>();
    try (InputStream in = Files.newInputStream(DIR.resolve(file))) {
      Object parsed = Serialization.unmarshal(in);
      if (parsed instanceof List<?> list) list.forEach(o -> objects.add((HasMetadata) o));
      else objects.add((HasMetadata) parsed);
    }
    return objects;
  }

  static <T> T only(List<HasMetadata> objects, Class<T> kind) {
    List<T> found = objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    assertThat(found).as(kind.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  @Test
  void theRoleLetsTheServerRunAgentPodsAndKeepTheirTokenSecret() throws Exception {
    List<HasMetadata> rbac = objects("rbac.yaml");
    ServiceAccount account = only(rbac, ServiceAccount.class);
    Role role = only(rbac, Role.class);
    RoleBinding binding = only(rbac, RoleBinding.class);
    assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(account.getMetadata().getName());
    });
    assertThat(verbs(role, "pods")).contains("get", "list", "watch", "create", "delete");
    assertThat(verbs(role, "secrets")).contains("get", "create", "update", "patch", "delete");
    assertThat(role.getRules()).allSatisfy(r -> assertThat(r.getResources()).containsAnyOf("pods", "secrets"));

    Deployment server = only(objects("server.yaml"), Deployment.class);
    assertThat(server.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(account.getMetadata().getName());
  }

  @Test
  void theServerRunsTheProjectsImageWithSecretsByReferenceBehindAService() throws Exception {
    List<HasMetadata> objects = objects("server.yaml");
    Deployment deployment = only(objects, Deployment.class);
    Service service = only(objects, Service.class);
    var template = deployment.getSpec().getTemplate();
    assertThat(deployment.getSpec().getSelector().getMatchLabels()).isEqualTo(template.getMetadata().getLabels());
    assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(service.getSpec().getSelector());
    Container container = template.getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo(KubernetesProviderFactory.DEFAULT_IMAGE);
    for (EnvVar env : container.getEnv()) {
      assertThat(env.getValue()).as(env.getName() + " comes from a Secret").isNull();
      assertThat(env.getValueFrom().getSecretKeyRef()).isNotNull();
    }
    List<String> portNames = container.getPorts().stream().map(ContainerPort::getName).toList();
    assertThat(service.getSpec().getPorts()).allSatisfy(p -> assertThat(portNames).contains(p.getTargetPort().getStrVal()));
    assertThat(container.getPorts()).anySatisfy(p -> assertThat(p.getContainerPort()).isEqualTo(9090));
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
  }

  private static List<String> verbs(Role role, String resource) {
    return role.getRules().stream().filter(r -> r.getResources().contains(resource))
        .flatMap(r -> r.getVerbs().stream()).toList();
  }

}
