package dev.sluice.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.runtime.embedded.EmbeddedFlink;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The embedded Web UI takes no jar uploads unless asked to: any local user could otherwise run code in it. */
class EmbeddedWebSubmitTest {

    static int jarsStatus(boolean allowSubmit) throws Exception {
        try (EmbeddedFlink flink = EmbeddedFlink.start(0, 1, allowSubmit)) {
            var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + flink.restPort() + "/jars")).GET().build();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (true) { // 503 until the dispatcher's leader is known
                HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 503 || System.nanoTime() > deadline) {
                    return r.statusCode();
                }
                Thread.sleep(200);
            }
        }
    }

    @Test
    void jarUploadIsOffByDefaultAndOnWithAllowSubmit() throws Exception {
        assertEquals(404, jarsStatus(false));
        assertEquals(200, jarsStatus(true));
    }
}
