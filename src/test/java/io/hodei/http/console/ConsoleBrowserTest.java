package io.hodei.http.console;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The web console in a real browser (Debian's chromium, headless, through its chromedriver) against a real server:
 * a cold load and its first-view time, sign-in by keyboard, a job submitted in the form and followed queued ->
 * running -> succeeded live without a reload, its logs, a running job's output on its page before the job ends, a
 * job's row updated from its event without reading the list again, a cut live connection that reconnects and catches up, a pool
 * drained with its button, each view's data, a tenant token that sees nothing of another tenant, labels, and both a
 * desktop and a phone width without horizontal overflow. Screenshots of each view go to {@code target/console-screenshots} (or {@code -Dhodei.console.screenshots}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Duration WAIT = Duration.ofSeconds(40);

  private static TestServer server;
  private static ChromeDriver driver;
  private static ChromeDriverService service;
  private static Path profile;
  private static Path downloads;
  private static Path shots;
  private static String base;
  private static String acmeSubmitter;
  private static String globexViewer;
  private static String globexJob;
  private static String acmeJob;

  @BeforeAll
  static void start() throws IOException {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      fail("the console's browser test needs Debian's chromium and chromedriver at " + CHROMIUM + " and "
          + CHROMEDRIVER + ": apt-get install -y chromium chromium-driver (.ci/run installs them)");
    }
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.SCALING_INTERVAL, 1));
    base = "http://127.0.0.1:" + server.port();
    Fixtures fx = new Fixtures(server);
    acmeSubmitter = fx.tenant("acme", null, 2, "submitter");
    globexViewer = fx.tenant("globex", null, 1, "viewer");
    fx.pool(Fixtures.simulatedPool("sim-a", 2, 3000).put("name", "Batch A").put("price_per_worker_hour", 0.25), 2);
    fx.pool(Fixtures.simulatedPool("sim-b", 1, 500).put("name", "Batch B").put("price_per_worker_hour", 0.1), 1);
    JsonObject elastic = new JsonObject().put("id", "elastic").put("name", "Elastic").put("kind", "dynamic")
        .put("provider", "simulated").put("min_size", 1).put("max_size", 4).put("target_size", 1)
        .put("worker_cpu_m", 1000).put("worker_memory_mb", 1024).put("price_per_worker_hour", 0.4)
        .put("auto_scaling_enabled", true)
        .put("provider_config", new JsonObject().put("provision_delay_ms", 1).put("job_duration_ms", 4000));
    fx.pool(elastic, 1);
    Response policy = server.admin(HttpMethod.POST, "/api/v1/pools/elastic/scaling/policies", new JsonObject()
        .put("type", "queue_depth_per_worker").put("target", 1).put("min_step", 1).put("max_step", 3)
        .put("enabled", true));
    assertThat(policy.status()).as(policy.toString()).isEqualTo(201);
    // work for the queue, scaling and cost views: globex has a job of its own that acme must never see
    globexJob = fx.submitted(TestServer.ADMIN_TOKEN, Fixtures.spec("sim-b", "report").put("tenant_id", "globex"));
    for (int i = 0; i < 5; i++) fx.submitted(acmeSubmitter, Fixtures.spec("elastic", "train").put("cpu_m", 1000));

    profile = Files.createTempDirectory("hodei-console-chromium");
    downloads = Files.createTempDirectory("hodei-console-downloads");
    shots = Path.of(System.getProperty("hodei.console.screenshots", "target/console-screenshots"));
    Files.createDirectories(shots);
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new",
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,800",
        "--user-data-dir=" + profile);
    Map<String, Object> prefs = new HashMap<>();
    prefs.put("download.default_directory", downloads.toString());
    prefs.put("download.prompt_for_download", false);
    options.setExperimentalOption("prefs", prefs);
    service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
        .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    viewport(1280, 800, false);
  }

  @AfterAll
  static void stop() throws IOException {
    try {
      if (driver != null) driver.quit();
    } finally {
      if (service != null) service.stop();
      if (server != null) server.close();
      for (Path dir : new Path[] {profile, downloads}) {
        if (dir == null) continue;
        try (Stream<Path> files = Files.walk(dir)) {
          files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  @Test
  @Order(0)
  void theConsoleIsServedFromTheJarWithItsSecurityHeaders() {
    for (String path : List.of("/", "/console/")) {
      Response page = server.get(path, null);
      assertThat(page.status()).as(path).isEqualTo(200);
      assertThat(page.contentType()).startsWith("text/html");
      assertThat(page.header("Cache-Control")).isEqualTo("no-cache");
      assertThat(page.header("Content-Security-Policy")).isEqualTo(ConsoleRoutes.CONTENT_SECURITY_POLICY)
          .contains("script-src 'self'").doesNotContain("unsafe-inline");
      assertThat(page.body()).contains("<script type=\"module\" src=\"/console/js/main.js\">");
    }
    Response bare = server.send(server.request(HttpMethod.GET, "/console", null).followRedirects(false), null);
    assertThat(bare.status()).isEqualTo(301);
    assertThat(bare.header("Location")).isEqualTo("/console/");
    Response script = server.get("/console/js/main.js", null);
    assertThat(script.status()).isEqualTo(200);
    assertThat(script.contentType()).contains("javascript");
    assertThat(script.header("Cache-Control")).isEqualTo("public, max-age=300");
    assertThat(script.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(server.get("/console/console.css", null).contentType()).startsWith("text/css");
    Response missing = server.get("/console/js/nothing.js", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.contentType()).isEqualTo("application/problem+json");
    // who a token is: the console's only endpoint of its own, behind the same bearer check as the API
    Response anonymous = server.get(ConsoleRoutes.SESSION, null);
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.contentType()).isEqualTo("application/problem+json");
    assertThat(server.get(ConsoleRoutes.SESSION, "not-a-token").status()).isEqualTo(401);
    JsonObject viewer = server.get(ConsoleRoutes.SESSION, globexViewer).json();
    assertThat(viewer.getString("role")).isEqualTo("viewer");
    assertThat(viewer.getString("tenant_id")).isEqualTo("globex");
    assertThat(server.get(ConsoleRoutes.SESSION, TestServer.ADMIN_TOKEN).json().getString("role")).isEqualTo("admin");
    // the console adds no way around the API's token: its pages hold no data, every call needs the bearer token
    assertThat(server.get("/api/v1/jobs", null).status()).isEqualTo(401);
  }

  @Test
  @Order(1)
  void aColdLoadShowsThePoolsWithTheirData() throws IOException {
    // a page of the same origin that is not the console, to put the token in sessionStorage before the first load
    driver.get(base + "/health/live");
    js("sessionStorage.setItem('hodei.token', arguments[0])", TestServer.ADMIN_TOKEN);
    driver.get(base + "/console/#/pools");
    waitFor("the pools with their data", () -> driver.findElements(By.cssSelector(".card.pool")).size() == 3
        && driver.findElement(By.tagName("body")).getAttribute("data-first-view-ms") != null);
    long firstView = Long.parseLong(driver.findElement(By.tagName("body")).getAttribute("data-first-view-ms"));
    Map<?, ?> timing = (Map<?, ?>) js("const n = performance.getEntriesByType('navigation')[0];"
        + "return {domInteractive: Math.round(n.domInteractive), load: Math.round(n.loadEventEnd),"
        + " resources: performance.getEntriesByType('resource').length}");
    String line = String.format("console cold load: first view with data %d ms after navigation start "
        + "(domInteractive %s ms, load %s ms, %s resources)", firstView, timing.get("domInteractive"),
        timing.get("load"), timing.get("resources"));
    System.out.println(line);
    Files.writeString(Path.of("target", "console-first-view.txt"), line + "\n");
    assertThat(firstView).as("the first-view mark is set once the pools are drawn").isPositive();
    assertThat(text("#pool-sim-a")).contains("Batch A");
    assertThat(text(".card.pool[data-pool='sim-a']")).contains("idle 2").contains("Utilisation").contains("Health");
    assertThat(driver.findElements(By.cssSelector("button[data-action='drain']"))).as("admin controls").hasSize(3);
    assertThat(text("#live")).isEqualTo("live");
    screenshot("console-pools");
  }

  @Test
  @Order(2)
  void signInByKeyboardAndNavigate() {
    driver.findElement(By.id("logout")).click();
    waitFor("the sign-in form", () -> !driver.findElements(By.id("token")).isEmpty());
    assertThat(js("return sessionStorage.getItem('hodei.token')")).isNull();
    assertThat(js("return document.activeElement.id")).as("the token field has the focus").isEqualTo("token");
    assertThat(text("label[for='token']")).isEqualTo("API token");
    driver.switchTo().activeElement().sendKeys("not-a-token", Keys.ENTER);
    waitFor("the refusal", () -> !driver.findElements(By.id("login-error")).isEmpty());
    assertThat(text("#login-error")).contains("not valid");
    WebElement input = driver.findElement(By.id("token"));
    input.sendKeys(TestServer.ADMIN_TOKEN, Keys.ENTER);
    waitFor("the signed-in console", () -> driver.findElement(By.id("nav")).isDisplayed()
        && driver.findElements(By.cssSelector(".card.pool")).size() == 3);
    assertThat(text("#identity")).isEqualTo("admin");
    // keyboard only: on a fresh page Tab reaches the skip link first, then the navigation; Enter follows a link
    driver.navigate().refresh();
    waitFor("the console again", () -> driver.findElements(By.cssSelector(".card.pool")).size() == 3);
    new Actions(driver).sendKeys(Keys.TAB).perform();
    assertThat(js("return document.activeElement.textContent")).isEqualTo("Skip to content");
    boolean reached = false;
    for (int i = 0; i < 12 && !reached; i++) {
      new Actions(driver).sendKeys(Keys.TAB).perform();
      reached = "Jobs".equals(js("return document.activeElement.textContent"));
    }
    assertThat(reached).as("Tab reaches the Jobs link").isTrue();
    new Actions(driver).sendKeys(Keys.ENTER).perform();
    waitFor("the jobs view", () -> !driver.findElements(By.id("jobs")).isEmpty());
    assertThat(driver.findElement(By.cssSelector("#nav a[data-view='jobs']")).getAttribute("aria-current"))
        .isEqualTo("page");
  }

  @Test
  @Order(3)
  void aSubmittedJobGoesQueuedRunningSucceededLiveWithItsLogs() {
    // a paused pool holds the job queued until it is resumed, so every state is seen
    lifecycle("sim-a", "pause");
    go("#/submit");
    waitFor("the submit form", () -> !driver.findElements(By.id("submit-form")).isEmpty());
    assertThat(unlabelledFields()).as("form fields without a label").isEmpty();
    new Select(driver.findElement(By.id("s-tenant"))).selectByValue("acme");
    new Select(driver.findElement(By.id("s-pool"))).selectByValue("sim-a");
    WebElement command = driver.findElement(By.id("s-command"));
    command.clear();
    command.sendKeys("echo \"hello console\"");
    driver.findElement(By.id("s-sla")).sendKeys("600");
    driver.findElement(By.cssSelector("#submit-form button[type=submit]")).click();
    waitFor("the job page", () -> driver.getCurrentUrl().contains("#/jobs/j-")
        && !driver.findElements(By.cssSelector("[data-testid=job-state]")).isEmpty());
    acmeJob = driver.getCurrentUrl().replaceAll(".*#/jobs/", "");
    js("window.__sameDocument = true");
    waitForState("queued");
    waitFor("the reason it waits", () -> !driver.findElements(By.id("why-pending")).isEmpty());
    assertThat(text("#why-pending")).containsIgnoringCase("paused");
    screenshot("console-job-waiting");
    lifecycle("sim-a", "resume");
    waitForState("running");
    waitForState("succeeded");
    waitFor("the output", () -> text("#logs").contains("simulated job " + acmeJob));
    assertThat(text("#timeline")).contains("queued").contains("admitted").contains("running").contains("succeeded");
    assertThat(text("#sla-status")).contains("met");
    assertThat(js("return window.__sameDocument === true")).as("followed without a reload").isEqualTo(true);
    assertThat((List<?>) js("return window.cspViolations")).as("Content-Security-Policy violations").isEmpty();
    screenshot("console-job");
  }

  @Test
  @Order(4)
  void aRunningJobsOutputFollowsLiveOnItsPage() throws IOException {
    fx().pool(new JsonObject().put("id", "here").put("name", "Here").put("provider", "local").put("size", 1)
        .put("worker_cpu_m", 4000).put("worker_memory_mb", 8192), 1);
    // the job prints each line only when the test opens its gate (each wait gives up after a minute)
    Path gates = Files.createTempDirectory("hodei-console-gates");
    try {
      Path first = gates.resolve("first");
      Path second = gates.resolve("second");
      String script = "await() { i=0; while [ ! -e \"$1\" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; }; "
          + "await '" + first + "'; echo first live line; await '" + second + "'; echo second live line";
      String id = fx().submitted(acmeSubmitter, Fixtures.spec("here", "sh", "-c", script));
      fx().awaitState(acmeSubmitter, id, "running");
      go("#/jobs/" + id);
      waitForState("running");
      js("window.__sameDocument = true");
      Files.createFile(first);
      // the line comes as a job.output event while the job still runs (it cannot end before the second gate)
      waitFor("the first line while the job runs", () -> text("#logs").contains("first live line"));
      assertThat(fx().job(acmeSubmitter, id).getString("state")).isEqualTo("running");
      assertThat(driver.findElement(By.cssSelector("[data-testid=job-state]")).getAttribute("data-state"))
          .isEqualTo("running");
      assertThat(text("#logs")).doesNotContain("second live line");
      // opened anew, the page reads the output so far
      go("#/jobs");
      waitFor("the jobs view", () -> !driver.findElements(By.id("jobs")).isEmpty());
      go("#/jobs/" + id);
      waitFor("the output so far on a fresh job page", () -> text("#logs").contains("first live line"));
      assertThat(text("#logs")).containsOnlyOnce("first live line");
      assertThat(driver.findElements(By.cssSelector("#logs .live-tag"))).as("the attempt is marked live").hasSize(1);
      screenshot("console-job-live-output");
      Files.createFile(second);
      waitForState("succeeded");
      waitFor("the stored log", () -> text("#logs").contains("second live line")
          && driver.findElements(By.cssSelector("#logs .live-tag")).isEmpty());
      assertThat(text("#logs")).containsOnlyOnce("first live line").containsOnlyOnce("second live line");
      assertThat(js("return window.__sameDocument === true")).as("followed without a reload").isEqualTo(true);

      // the jobs table takes a listed job's new state from its event, without reading the list again
      Path third = gates.resolve("third");
      String held = fx().submitted(acmeSubmitter, Fixtures.spec("here", "sh", "-c", "i=0; while [ ! -e '" + third
          + "' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"));
      fx().awaitState(acmeSubmitter, held, "running");
      go("#/jobs");
      String row = "#jobs tr[data-job='" + held + "'] [data-testid=job-row-state]";
      waitFor("the held job running in the table", () -> text(row).contains("running"));
      js("window.__listReads = 0; const f = window.fetch; window.fetch = (url, o) => {"
          + " if (String(url).startsWith('/api/v1/jobs?')) window.__listReads++; return f(url, o); }");
      Files.createFile(third);
      waitFor("the held job succeeded in the table", () -> text(row).contains("succeeded"));
      assertThat(js("return window.__listReads")).as("reads of the job list").isEqualTo(0L);
    } finally {
      try (Stream<Path> files = Files.walk(gates)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  @Order(5)
  void jobsQueuesScalingCostAndAlertsShowTheirData() throws IOException {
    go("#/jobs");
    waitFor("the job in the table", () -> text("#jobs").contains(acmeJob));
    assertThat(text("#jobs")).contains(globexJob);
    screenshot("console-jobs");
    new Select(driver.findElement(By.id("f-state"))).selectByValue("succeeded");
    driver.findElement(By.id("f-pool")).sendKeys("sim-a", Keys.ENTER);
    waitFor("the filtered table", () -> driver.getCurrentUrl().contains("state=succeeded")
        && driver.findElements(By.cssSelector("#jobs tbody tr")).size() == 1);
    assertThat(text("#jobs tbody")).contains(acmeJob).contains("succeeded");

    // queued work for two tenants on one busy worker
    Fixtures fx = new Fixtures(server);
    for (int i = 0; i < 3; i++) {
      fx.submitted(acmeSubmitter, Fixtures.spec("sim-b", "etl").put("payload", new JsonObject().put("duration_ms", 4000)));
      fx.submitted(TestServer.ADMIN_TOKEN, Fixtures.spec("sim-b", "etl").put("tenant_id", "globex")
          .put("payload", new JsonObject().put("duration_ms", 4000)));
    }
    go("#/queues");
    waitFor("both tenants queued", () -> !driver.findElements(By.id("tenant-queues")).isEmpty()
        && text("#tenant-queues").contains("acme") && text("#tenant-queues").contains("globex"));
    assertThat(text("#tenant-queues")).contains("entitled");
    screenshot("console-queues");

    go("#/scaling/elastic");
    waitFor("the scaling decisions", () -> !driver.findElements(By.id("scaling-ledger")).isEmpty());
    assertThat(text("#scaling-ledger")).contains("scale_out").contains("queue_depth_per_worker");
    screenshot("console-scaling");

    go("#/cost");
    waitFor("the cost view", () -> !driver.findElements(By.id("cost-body")).isEmpty()
        && text("#cost-body").contains("By tenant"));
    driver.findElement(By.cssSelector("button[data-csv='pool']")).click();
    Path csv = Poll.until(() -> {
      try (Stream<Path> files = Files.list(downloads)) {
        return files.filter(p -> p.toString().endsWith(".csv")).findFirst().orElse(null);
      } catch (IOException e) {
        return null;
      }
    }, p -> p != null, WAIT, "the CSV download");
    assertThat(Files.readString(csv, StandardCharsets.UTF_8)).startsWith("pool_id,");
    screenshot("console-cost");

    go("#/alerts");
    waitFor("the alerts view", () -> !driver.findElements(By.id("alerts-state")).isEmpty());
    assertThat(text("#alerts-state")).contains("not configured");
    screenshot("console-alerts");
  }

  @Test
  @Order(6)
  void aCutLiveConnectionReconnectsAndTheViewCatchesUp() {
    go("#/jobs?pool=sim-a");
    waitFor("sim-a's jobs", () -> text("#jobs").contains(acmeJob));
    js("window.__sameDocument = true");
    js("window.hodeiConsole.bus().ws.close()");
    waitFor("the reconnection", () -> "live".equals(text("#live"))
        && (Long) js("return window.hodeiConsole.bus().backoff") == 500L
        && (Boolean) js("return window.hodeiConsole.bus().ws.readyState === 1"));
    // events after the reconnection reach the page: a new job shows up in the table without a reload (the new
    // registrations complete asynchronously, so jobs are submitted until one is seen)
    Fixtures fx = new Fixtures(server);
    java.util.Set<String> submitted = new java.util.HashSet<>();
    long[] lastSubmit = {0};
    waitFor("a job submitted after the reconnection", () -> {
      if (submitted.stream().anyMatch(id -> text("#jobs").contains(id))) return true;
      if (System.nanoTime() - lastSubmit[0] > 1_000_000_000L) {
        submitted.add(fx.submitted(acmeSubmitter, Fixtures.spec("sim-a", "after", "reconnect")));
        lastSubmit[0] = System.nanoTime();
      }
      return false;
    });
    assertThat(js("return window.__sameDocument === true")).isEqualTo(true);
  }

  @Test
  @Order(7)
  void anAdminDrainsAPoolWithItsButton() {
    go("#/pools");
    By drain = By.cssSelector(".card.pool[data-pool='sim-b'] button[data-action='drain']");
    waitFor("the drain button", () -> !driver.findElements(drain).isEmpty());
    driver.findElement(drain).click();
    waitFor("the confirmation", () -> driver.findElement(drain).getText().startsWith("Confirm"));
    driver.findElement(drain).click();
    waitFor("sim-b draining on the page", () -> {
      String state = text(".card.pool[data-pool='sim-b'] [data-testid=pool-state]");
      return state.contains("draining") || state.contains("stopped");
    });
    String stored = server.get("/api/v1/pools/sim-b", TestServer.ADMIN_TOKEN).json().getString("state");
    assertThat(stored).isIn("draining", "stopped");
  }

  @Test
  @Order(8)
  void aTenantTokenSeesOnlyItsTenant() {
    driver.findElement(By.id("logout")).click();
    waitFor("the sign-in form", () -> !driver.findElements(By.id("token")).isEmpty());
    driver.findElement(By.id("token")).sendKeys(globexViewer, Keys.ENTER);
    waitFor("the signed-in console", () -> driver.findElements(By.cssSelector(".card.pool")).size() >= 3);
    assertThat(text("#identity")).isEqualTo("viewer · globex");
    assertThat(driver.findElements(By.cssSelector("button[data-action]"))).as("no lifecycle buttons").isEmpty();
    assertThat(driver.findElement(By.cssSelector("#nav a[data-view='submit']")).isDisplayed()).isFalse();
    go("#/jobs");
    waitFor("globex's jobs", () -> !driver.findElements(By.id("jobs")).isEmpty() && text("#jobs").contains(globexJob));
    List<String> tenants = driver.findElements(By.cssSelector("#jobs tbody tr td:nth-child(2)")).stream()
        .map(WebElement::getText).distinct().toList();
    assertThat(tenants).containsExactly("globex");
    assertThat(driver.getPageSource()).doesNotContain(acmeJob).doesNotContain("acme");
    go("#/jobs/" + acmeJob);
    waitFor("the refusal", () -> !driver.findElements(By.id("job-missing")).isEmpty());
    assertThat(driver.getPageSource()).doesNotContain("hello console");
    go("#/queues");
    waitFor("the queues", () -> text("#main").contains("Tenants"));
    assertThat(driver.getPageSource()).doesNotContain("acme");
  }

  @Test
  @Order(9)
  void everyViewFitsADesktopAndAPhoneWidth() {
    // back to the admin, who sees every view and control
    driver.findElement(By.id("logout")).click();
    waitFor("the sign-in form", () -> !driver.findElements(By.id("token")).isEmpty());
    driver.findElement(By.id("token")).sendKeys(TestServer.ADMIN_TOKEN, Keys.ENTER);
    waitFor("the signed-in console", () -> "admin".equals(text("#identity")));
    for (int width : new int[] {1280, 390}) {
      viewport(width, width == 390 ? 844 : 800, width == 390);
      for (String view : List.of("#/pools", "#/queues", "#/jobs", "#/jobs/" + acmeJob, "#/submit", "#/scaling/elastic",
          "#/cost", "#/alerts")) {
        go(view);
        waitFor(view + " drawn", () -> !text("#main").startsWith("Loading"));
        Map<?, ?> size = (Map<?, ?>) js("return {scroll: document.documentElement.scrollWidth,"
            + " client: document.documentElement.clientWidth}");
        assertThat(((Number) size.get("scroll")).intValue()).as(view + " at " + width + " px: horizontal overflow")
            .isLessThanOrEqualTo(((Number) size.get("client")).intValue());
      }
    }
    go("#/pools");
    waitFor("the pools", () -> driver.findElements(By.cssSelector(".card.pool")).size() >= 3);
    screenshot("console-phone-pools");
    go("#/jobs/" + acmeJob);
    waitFor("the job", () -> !driver.findElements(By.id("timeline")).isEmpty());
    screenshot("console-phone-job");
    assertThat((List<?>) js("return window.cspViolations")).as("Content-Security-Policy violations").isEmpty();
    viewport(1280, 800, false);
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  private static Fixtures fx() { return new Fixtures(server); }

  private static Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  private static String text(String css) {
    List<WebElement> found = driver.findElements(By.cssSelector(css));
    return found.isEmpty() ? "" : found.get(0).getText();
  }

  private static void go(String hash) {
    js("location.hash = arguments[0]", hash);
  }

  private static void waitFor(String what, java.util.function.Supplier<Boolean> condition) {
    try {
      new WebDriverWait(driver, WAIT, Duration.ofMillis(100)).withMessage(what).until(d -> {
        try {
          return condition.get();
        } catch (org.openqa.selenium.StaleElementReferenceException e) {
          return false;
        }
      });
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("timed out waiting for " + what + "; page: " + text("#main"), e);
    }
  }

  private static void waitForState(String state) {
    waitFor("the job " + state + " on the page", () -> state.equals(
        driver.findElement(By.cssSelector("[data-testid=job-state]")).getAttribute("data-state")));
  }

  private static void lifecycle(String pool, String action) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools/" + pool + "/lifecycle",
        new JsonObject().put("action", action));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
  }

  /** Inputs, selects and text areas of the page that no label names. */
  @SuppressWarnings("unchecked")
  private static List<String> unlabelledFields() {
    return (List<String>) js("return [...document.querySelectorAll('input, select, textarea')]"
        + ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.name)");
  }

  private static void viewport(int width, int height, boolean mobile) {
    driver.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
        "deviceScaleFactor", 1, "mobile", mobile));
  }

  private static void screenshot(String name) {
    try {
      Files.write(shots.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
