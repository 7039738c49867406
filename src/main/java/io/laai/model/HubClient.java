package io.laai.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Downloads {@code hf:owner/name[@revision]} (a checkpoint) or {@code hf:owner/name/path/in/repo.gguf[@revision]}
 * (one file of a repository, e.g. one GGUF of many) once into the standard Hugging Face cache
 * layout ({@code models--owner--name/{blobs,snapshots,refs}}), so other tools share the files. A
 * cached snapshot or file loads with no network; with HF_HUB_OFFLINE set, the network is never
 * used. Downloads resume from a partial blob and are checked against the hub's ETag (sha256 for
 * LFS files, git blob sha1 otherwise).
 */
public final class HubClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._/-]{1,128}");
    private static final Pattern SAFE_FILE = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

    private final URI endpoint;
    private final Path cacheRoot;
    private final String token;
    private final PrintStream progress;
    private final HttpClient http;
    private final HttpClient noRedirects; // the hub's own answer carries the blob's ETag
    private final boolean offline;

    public HubClient(URI endpoint, Path cacheRoot, String token, PrintStream progress) {
        this(endpoint, cacheRoot, token, progress, false);
    }

    /** offline: never use the network (HF_HUB_OFFLINE); what is not cached is an error saying so. */
    public HubClient(URI endpoint, Path cacheRoot, String token, PrintStream progress, boolean offline) {
        this.offline = offline;
        this.endpoint = endpoint;
        this.cacheRoot = cacheRoot;
        this.token = token;
        this.progress = progress;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        this.noRedirects = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** HF_ENDPOINT, HF_HUB_CACHE / HF_HOME and HF_TOKEN, as the Hugging Face tools read them. */
    public static HubClient fromEnvironment() {
        String endpoint = System.getenv().getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        String cache = System.getenv("HF_HUB_CACHE");
        Path root;
        if (cache != null) {
            root = Path.of(cache);
        } else {
            String home = System.getenv("HF_HOME");
            root = (home != null ? Path.of(home) : Path.of(System.getProperty("user.home"), ".cache", "huggingface"))
                    .resolve("hub");
        }
        String off = System.getenv().getOrDefault("HF_HUB_OFFLINE", "").trim().toLowerCase(Locale.ROOT);
        // A progress bar only where someone watches: not when stderr is piped (CI, logs).
        return new HubClient(URI.create(endpoint.replaceAll("/+$", "")), root, System.getenv("HF_TOKEN"),
                System.console() != null ? System.err : null,
                List.of("1", "true", "yes", "on").contains(off));
    }

    /** A local path for an hf: reference: one file when it names a path inside the repository, else the snapshot. */
    public Path resolve(String spec) {
        int at = spec.indexOf('@');
        String name = at < 0 ? spec : spec.substring(0, at);
        return name.chars().filter(ch -> ch == '/').count() > 1 ? file(spec) : snapshot(spec);
    }

    /**
     * The local copy of one file of a repository, {@code owner/name/path/in/repo[@revision]},
     * downloading it (only it) when missing.
     */
    public Path file(String spec) {
        int at = spec.indexOf('@');
        String name = at < 0 ? spec : spec.substring(0, at);
        String revision = at < 0 ? "main" : spec.substring(at + 1);
        int second = name.indexOf('/', name.indexOf('/') + 1);
        String repo = second < 0 ? name : name.substring(0, second);
        String file = second < 0 ? "" : name.substring(second + 1);
        if (!REPO.matcher(repo).matches() || !SAFE_FILE.matcher(file).matches() || file.contains("..")
                || !REVISION.matcher(revision).matches() || revision.contains("..")) {
            throw new ModelFormatException("hf:" + spec + " is not of the form hf:owner/name/path/in/repo.gguf[@revision]");
        }
        Path repoDir = cacheRoot.resolve("models--" + repo.replace("/", "--"));
        Path cached = cachedFile(repoDir, revision, file);
        if (cached != null) {
            return cached;
        }
        requireOnline(spec, "file");
        try {
            JsonNode info = revisionInfo(repo, revision);
            String commit = info.path("sha").asText();
            List<String> present = new ArrayList<>();
            info.path("siblings").forEach(s -> present.add(s.path("rfilename").asText()));
            if (!present.contains(file)) {
                List<String> ggufs = present.stream().filter(f -> f.endsWith(".gguf")).limit(20).toList();
                throw new ModelFormatException("hf:" + spec + ": " + repo + "@" + revision + " has no file " + file
                        + (ggufs.isEmpty() ? "" : "; its GGUF files include " + ggufs));
            }
            Path snap = repoDir.resolve("snapshots").resolve(commit);
            fetch(repo, commit, file, repoDir, snap);
            Files.createDirectories(repoDir.resolve("refs"));
            if (!revision.equals(commit)) {
                Files.writeString(repoDir.resolve("refs").resolve(revision), commit);
            }
            return snap.resolve(file);
        } catch (IOException e) {
            throw unreachable(spec, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelFormatException("hf:" + spec + ": download interrupted");
        }
    }

    /** With HF_HUB_OFFLINE set, what is not cached is an error saying so. */
    private void requireOnline(String spec, String what) {
        if (offline) {
            throw new ModelFormatException("hf:" + spec + " is not cached in " + cacheRoot
                    + " and HF_HUB_OFFLINE is set; unset it to download, or point laai.model at a local " + what);
        }
    }

    private static Path cachedFile(Path repoDir, String revision, String file) {
        String commit = cachedCommit(repoDir, revision);
        Path p = commit == null ? null : repoDir.resolve("snapshots").resolve(commit).resolve(file);
        return p != null && Files.isRegularFile(p) ? p : null; // the link is made only once the blob is verified
    }

    /** The commit a revision names in the cache (refs/), the revision itself when it is one; null if unreadable. */
    private static String cachedCommit(Path repoDir, String revision) {
        Path ref = repoDir.resolve("refs").resolve(revision);
        try {
            return Files.isRegularFile(ref) ? Files.readString(ref).trim() : revision;
        } catch (IOException e) {
            return null;
        }
    }

    /** The hub's answer for repo@revision, which names its commit and files. */
    private JsonNode revisionInfo(String repo, String revision) throws IOException, InterruptedException {
        JsonNode info = getJson(endpoint + "/api/models/" + repo + "/revision/" + revision, repo);
        if (!info.path("sha").asText("").matches("[0-9a-f]{40}")) {
            throw new IOException("the hub answered no commit for " + repo + "@" + revision);
        }
        return info;
    }

    private ModelFormatException unreachable(String spec, IOException e) {
        return new ModelFormatException("hf:" + spec + " is not cached in " + cacheRoot + " and the hub at "
                + endpoint + " cannot be reached (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                + "); point laai.model (env LAAI_MODEL)"
                + " at a local GGUF file or checkpoint directory, or copy the model into that cache");
    }

    /** The local snapshot directory of owner/name[@revision], downloading what is missing. */
    public Path snapshot(String spec) {
        int at = spec.indexOf('@');
        String repo = at < 0 ? spec : spec.substring(0, at);
        String revision = at < 0 ? "main" : spec.substring(at + 1);
        if (!REPO.matcher(repo).matches() || !REVISION.matcher(revision).matches() || revision.contains("..")) {
            throw new ModelFormatException("hf:" + spec + " is not of the form hf:owner/name[@revision]");
        }
        Path repoDir = cacheRoot.resolve("models--" + repo.replace("/", "--"));
        Path cached = cachedSnapshot(repoDir, revision);
        if (cached != null) {
            return cached;
        }
        requireOnline(spec, "checkpoint");
        try {
            return download(repo, revision, repoDir);
        } catch (IOException e) {
            throw unreachable(spec, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelFormatException("hf:" + spec + ": download interrupted");
        }
    }

    private static Path cachedSnapshot(Path repoDir, String revision) {
        String commit = cachedCommit(repoDir, revision);
        Path snap = commit == null ? null : repoDir.resolve("snapshots").resolve(commit);
        return snap != null && Files.isRegularFile(snap.resolve(".laai-complete")) ? snap : null;
    }

    private Path download(String repo, String revision, Path repoDir) throws IOException, InterruptedException {
        JsonNode info = revisionInfo(repo, revision);
        String commit = info.path("sha").asText();
        Set<String> files = new LinkedHashSet<>();
        info.path("siblings").forEach(s -> files.add(s.path("rfilename").asText()));
        List<String> wanted = new ArrayList<>(List.of("config.json", "tokenizer.json"));
        if (files.contains("generation_config.json")) {
            wanted.add("generation_config.json");
        }
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        if (files.contains("model.safetensors")) {
            wanted.add("model.safetensors");
        } else if (files.contains("model.safetensors.index.json")) {
            fetch(repo, commit, "model.safetensors.index.json", repoDir, snap);
            JsonNode index = JSON.readTree(snap.resolve("model.safetensors.index.json").toFile());
            Set<String> shards = new LinkedHashSet<>();
            index.path("weight_map").forEach(v -> shards.add(v.asText()));
            wanted.addAll(shards);
        } else {
            throw new ModelFormatException("hf:" + repo + "@" + revision + " has no model.safetensors(.index.json);"
                    + " LAAI loads safetensors checkpoints and GGUF files");
        }
        for (String file : wanted) {
            fetch(repo, commit, file, repoDir, snap);
        }
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs").resolve(revision), commit);
        Files.writeString(snap.resolve(".laai-complete"), commit);
        return snap;
    }

    private void fetch(String repo, String commit, String file, Path repoDir, Path snap)
            throws IOException, InterruptedException {
        if (!SAFE_FILE.matcher(file).matches() || file.contains("..")) {
            throw new IOException("refusing file name '" + file + "' from the hub");
        }
        Path link = snap.resolve(file);
        if (Files.exists(link)) {
            return;
        }
        String url = endpoint + "/" + repo + "/resolve/" + commit + "/" + file;
        // The ETag names the blob; it is on the hub's own answer, before any redirect to storage.
        HttpResponse<Void> head = noRedirects.send(request(url).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.discarding());
        if (head.statusCode() >= 400) {
            throw new IOException("HEAD " + url + " answered " + head.statusCode());
        }
        String etag = head.headers().firstValue("x-linked-etag").or(() -> head.headers().firstValue("etag"))
                .orElseThrow(() -> new IOException("the hub gave no ETag for " + file))
                .replace("W/", "").replace("\"", "").toLowerCase(Locale.ROOT);
        if (!etag.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
            throw new IOException("unexpected ETag '" + etag + "' for " + file);
        }
        Path blob = repoDir.resolve("blobs").resolve(etag);
        if (!Files.exists(blob)) {
            Files.createDirectories(blob.getParent());
            Path partial = blob.resolveSibling(etag + ".incomplete");
            long have = Files.exists(partial) ? Files.size(partial) : 0;
            HttpRequest.Builder get = request(url).GET();
            if (have > 0) {
                get.header("Range", "bytes=" + have + "-");
            }
            HttpResponse<InputStream> response = http.send(get.build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = response.statusCode();
            if (status != 200 && status != 206) {
                response.body().close();
                throw new IOException("GET " + url + " answered " + status);
            }
            boolean append = status == 206;
            long total = response.headers().firstValueAsLong("content-length").orElse(-1) + (append ? have : 0);
            try (InputStream in = response.body();
                    OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE,
                            append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                copy(in, out, file, append ? have : 0, total);
            }
            verify(partial, etag, file);
            Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.createDirectories(link.getParent());
        Path target = link.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, link); // file systems without symbolic links
        }
    }

    private void copy(InputStream in, OutputStream out, String file, long done, long total) throws IOException {
        byte[] buf = new byte[1 << 16];
        long lastShown = 0;
        for (int n; (n = in.read(buf)) > 0;) {
            out.write(buf, 0, n);
            done += n;
            if (progress != null && (done - lastShown > (4 << 20) || done == total)) {
                lastShown = done;
                progress.printf("\rDownloading %s %s %.1f/%s MB", file,
                        total > 0 ? String.format("%3d%%", 100 * done / total) : "", done / 1e6,
                        total > 0 ? String.format("%.1f", total / 1e6) : "?");
            }
        }
        if (progress != null) {
            progress.println();
        }
    }

    /** sha256 for LFS blobs; git's blob sha1 ("blob <size>\0" + content) for small files. */
    private static void verify(Path file, String etag, String name) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance(etag.length() == 64 ? "SHA-256" : "SHA-1");
            if (etag.length() == 40) {
                digest.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.UTF_8));
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0;) {
                    digest.update(buf, 0, n);
                }
            }
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equals(etag)) {
                Files.deleteIfExists(file);
                throw new ModelFormatException("downloaded " + name + " has checksum " + got + ", the hub's ETag says "
                        + etag + " (corrupt download, removed; try again)");
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode getJson(String url, String repo) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(url).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new ModelFormatException("hf:" + repo + ": the hub refused access (" + r.statusCode()
                    + "); set HF_TOKEN for gated or private models");
        }
        if (r.statusCode() == 404) {
            throw new ModelFormatException("hf:" + repo + ": no such model or revision on " + endpoint);
        }
        if (r.statusCode() != 200) {
            throw new IOException("GET " + url + " answered " + r.statusCode());
        }
        return JSON.readTree(r.body());
    }

    private HttpRequest.Builder request(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(30))
                .header("User-Agent", "laai/0.1");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }
}
