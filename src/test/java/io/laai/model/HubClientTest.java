package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import ai.djl.Device;
import io.laai.SharedData;

/** hf: references against a fake hub on localhost: download, cache layout, offline reuse, resume, checksums. */
class HubClientTest {

    static final String REPO = "laai-test/stories-hf";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    /** A multi-file GGUF repository, as ggml-org/models is: one file is wanted, in a folder. */
    static final String GGUF_REPO = "ggml-org/models";
    static final String GGUF_COMMIT = "89abcdef0123456789abcdef0123456789abcdef";
    static final String GGUF_FILE = "tinyllamas/stories260K.gguf";

    @TempDir
    Path tmp;

    HttpServer server;
    URI endpoint;
    Map<String, byte[]> files = new TreeMap<>();
    Map<String, byte[]> ggufRepo = new TreeMap<>();
    List<String> requests = new CopyOnWriteArrayList<>();
    boolean corrupt;

    @BeforeEach
    void serve() throws Exception {
        Path ckpt = tmp.resolve("source");
        Llama2cCheckpoint.writeHfCheckpoint(SharedData.model("stories260K/stories260K.bin"),
                GgufTokenizer.toTokenizerJson(GgufFile.open(SharedData.stories260K())), ckpt);
        for (String f : List.of("config.json", "tokenizer.json", "model.safetensors")) {
            files.put(f, Files.readAllBytes(ckpt.resolve(f)));
        }
        ggufRepo.put(GGUF_FILE, Files.readAllBytes(SharedData.stories260K()));
        ggufRepo.put("tinyllamas/stories15M.gguf", "another model, never fetched".getBytes(StandardCharsets.UTF_8));
        ggufRepo.put("README.md", "# models".getBytes(StandardCharsets.UTF_8));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
        endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private HubClient client() {
        return new HubClient(endpoint, tmp.resolve("hub"), null, null);
    }

    private HubClient offlineClient() {
        return new HubClient(endpoint, tmp.resolve("hub"), null, null, true);
    }

    @Test
    void aSingleFileReferenceDownloadsOnlyThatFileIntoTheCacheAndLoadsIt() throws Exception {
        Path file = client().resolve(GGUF_REPO + "/" + GGUF_FILE);
        Path repoDir = tmp.resolve("hub").resolve("models--ggml-org--models");
        assertEquals(repoDir.resolve("snapshots").resolve(GGUF_COMMIT).resolve(GGUF_FILE), file);
        assertEquals(GGUF_COMMIT, Files.readString(repoDir.resolve("refs").resolve("main")));
        assertTrue(Files.isSymbolicLink(file));
        assertEquals(sha256(ggufRepo.get(GGUF_FILE)), sha256(Files.readAllBytes(file)));
        assertTrue(requests.stream().noneMatch(r -> r.contains("stories15M") || r.contains("README")), requests.toString());
        try (LanguageModel fromHub = LanguageModel.load(file, Device.cpu());
                LanguageModel local = LanguageModel.load(SharedData.stories260K(), Device.cpu())) {
            assertEquals(local.fingerprint(), fromHub.fingerprint());
        }
        // Cached: the same path with the hub gone, and with HF_HUB_OFFLINE.
        server.stop(0);
        server = null;
        assertEquals(file, client().resolve(GGUF_REPO + "/" + GGUF_FILE + "@main"));
    }

    @Test
    void hfHubOfflineNeverUsesTheNetwork() throws Exception {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> offlineClient().resolve(GGUF_REPO + "/" + GGUF_FILE));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> offlineClient().resolve(REPO));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
        assertEquals(List.of(), requests, "no request while offline");
        Path file = client().resolve(GGUF_REPO + "/" + GGUF_FILE);
        requests.clear();
        assertEquals(file, offlineClient().resolve(GGUF_REPO + "/" + GGUF_FILE));
        assertEquals(List.of(), requests);
    }

    @Test
    void aFileTheRepositoryLacksIsNamedWithTheFilesItHas() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> client().resolve(GGUF_REPO + "/tinyllamas/stories42.gguf"));
        assertTrue(e.getMessage().contains("has no file tinyllamas/stories42.gguf")
                && e.getMessage().contains(GGUF_FILE), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> client().resolve(GGUF_REPO + "/../secrets.gguf"));
        assertTrue(e.getMessage().contains("not of the form"), e.getMessage());
    }

    @Test
    void downloadsIntoTheHfCacheLayoutAndLoads() throws Exception {
        HubClient hub = client();
        Path snap = hub.snapshot(REPO);
        Path repoDir = tmp.resolve("hub").resolve("models--laai-test--stories-hf");
        assertEquals(repoDir.resolve("snapshots").resolve(COMMIT), snap);
        assertEquals(COMMIT, Files.readString(repoDir.resolve("refs").resolve("main")));
        assertTrue(Files.isSymbolicLink(snap.resolve("model.safetensors")));
        assertTrue(Files.exists(repoDir.resolve("blobs").resolve(sha256(files.get("model.safetensors")))));
        try (LanguageModel hf = LanguageModel.load(snap, Device.cpu());
                LanguageModel gguf = LanguageModel.load(SharedData.stories260K(), Device.cpu())) {
            Generator.Request r = new Generator.Request("Once upon a time", SamplingParams.greedy(30), Steering.NONE);
            assertEquals(new Generator(gguf).generate(r).text(), new Generator(hf).generate(r).text());
        }
        // Cached: no network at all the second time.
        server.stop(0);
        server = null;
        assertEquals(snap, hub.snapshot(REPO + "@main"));
    }

    @Test
    void resumesAPartialDownload() throws Exception {
        byte[] weights = files.get("model.safetensors");
        Path blobs = Files.createDirectories(tmp.resolve("hub/models--laai-test--stories-hf/blobs"));
        Files.write(blobs.resolve(sha256(weights) + ".incomplete"), java.util.Arrays.copyOf(weights, 1000));
        Path snap = client().snapshot(REPO);
        assertTrue(requests.contains("GET /cdn/" + sha256(weights) + " bytes=1000-"), requests.toString());
        assertEquals(sha256(weights), sha256(Files.readAllBytes(snap.resolve("model.safetensors"))));
    }

    @Test
    void refusesACorruptDownload() {
        corrupt = true;
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> client().snapshot(REPO));
        assertTrue(e.getMessage().contains("model.safetensors has checksum"), e.getMessage());
    }

    @Test
    void unreachableHubWithoutCacheSaysWhatToDo() {
        server.stop(0);
        HubClient offline = client();
        server = null;
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> offline.snapshot(REPO));
        assertTrue(e.getMessage().contains("cannot be reached") && e.getMessage().contains("LAAI_MODEL"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> offline.snapshot("../../etc"));
        assertTrue(e.getMessage().contains("not of the form"), e.getMessage());
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add(ex.getRequestMethod() + " " + path + (range == null ? "" : " " + range));
        byte[] body;
        if (path.equals("/api/models/" + REPO + "/revision/main")) {
            StringBuilder json = new StringBuilder("{\"sha\": \"" + COMMIT + "\", \"siblings\": [");
            json.append(String.join(",", files.keySet().stream().map(f -> "{\"rfilename\": \"" + f + "\"}").toList()));
            body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
            send(ex, 200, body);
            return;
        }
        if (path.equals("/api/models/" + GGUF_REPO + "/revision/main")) {
            String siblings = String.join(",", ggufRepo.keySet().stream().map(f -> "{\"rfilename\": \"" + f + "\"}").toList());
            send(ex, 200, ("{\"sha\": \"" + GGUF_COMMIT + "\", \"siblings\": [" + siblings + "]}").getBytes(StandardCharsets.UTF_8));
            return;
        }
        String ggufResolve = "/" + GGUF_REPO + "/resolve/" + GGUF_COMMIT + "/";
        if (path.startsWith(ggufResolve) && ggufRepo.containsKey(path.substring(ggufResolve.length()))) {
            byte[] content = ggufRepo.get(path.substring(ggufResolve.length()));
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(content) + "\"");
            ex.getResponseHeaders().add("Location", "/cdn/" + sha256(content));
            ex.sendResponseHeaders(302, -1);
            ex.close();
            return;
        }
        String resolve = "/" + REPO + "/resolve/" + COMMIT + "/";
        if (path.startsWith(resolve) && files.containsKey(path.substring(resolve.length()))) {
            String name = path.substring(resolve.length());
            byte[] content = files.get(name);
            if (name.endsWith(".safetensors")) {
                // LFS: the hub answers with the sha256 ETag and redirects to storage.
                ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(content) + "\"");
                ex.getResponseHeaders().add("Location", "/cdn/" + sha256(content));
                ex.sendResponseHeaders(302, -1);
                ex.close();
                return;
            }
            ex.getResponseHeaders().add("ETag", "\"" + gitSha1(content) + "\"");
            send(ex, 200, ex.getRequestMethod().equals("HEAD") ? null : content);
            return;
        }
        if (path.startsWith("/cdn/")) {
            String sha = path.substring("/cdn/".length());
            byte[] content = java.util.stream.Stream.concat(files.values().stream(), ggufRepo.values().stream())
                    .filter(c -> sha256(c).equals(sha)).findFirst().orElseThrow().clone();
            if (corrupt) {
                content[content.length - 1] ^= 1;
            }
            if (range != null) {
                int from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                byte[] rest = java.util.Arrays.copyOfRange(content, from, content.length);
                send(ex, 206, rest);
            } else {
                send(ex, 200, content);
            }
            return;
        }
        send(ex, 404, "not found".getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body == null ? -1 : body.length);
        if (body != null) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitSha1(byte[] data) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-1");
            sha.update(("blob " + data.length + "\0").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
