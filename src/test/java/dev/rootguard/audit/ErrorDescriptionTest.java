package dev.rootguard.audit;

import static dev.rootguard.audit.AuditGoldenTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rootguard.admission.AdmissionDecoder;
import dev.rootguard.admission.BadRequestException;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Read and binding errors are described once, for the webhook and the audit CLI alike, by position, field
 * path and JSON type: never a value from the input, a Java type or the input's bytes.
 */
class ErrorDescriptionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Java and parser names that must not reach a user. */
    private static final Pattern INTERNAL = Pattern.compile("java\\.|`|Exception|Coercion|0x[0-9a-fA-F]|\\$|Source:");

    private static final String POD_JSON =
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"apps\"},"
                    + "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/app:1\",\"securityContext\":{\"runAsUser\":1000}}]}}";

    private static String review(String object) {
        return "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\","
                + "\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"apps\",\"object\":"
                + object + "}}";
    }

    /** The webhook's message for a pod object: the decoder reads it, binding names the field. */
    private static String webhook(String object) {
        BadRequestException e = assertThrows(
                BadRequestException.class,
                () -> AdmissionDecoder.decode(review(object).getBytes(StandardCharsets.UTF_8))
                        .object()
                        .bind(Pod.class, "request.object"));
        return e.getMessage();
    }

    /** The audit CLI's reason for the same object, read as a manifest from standard input. */
    private static String cliReason(String object) throws Exception {
        var run = cli(
                new ByteArrayInputStream(object.getBytes(StandardCharsets.UTF_8)), "audit", "-f", "-", "-o", "json");
        JsonNode result = JSON.readTree(run.out()).path("results").path(0);
        assertEquals("error", result.path("status").asText(), run.out());
        return result.path("reason").asText();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                // field as written in the pod                         | field path
                // | description
                "\"runAsUser\":\"zero-s3cret\"                          | spec.containers[0].securityContext.runAsUser     | expected an integer, got a string",
                "\"runAsUser\":31415926535000000000000                  | spec.containers[0].securityContext.runAsUser     | expected an integer from -9223372036854775808 to 9223372036854775807, got a number out of that range",
                "\"runAsUser\":1000,\"capabilities\":{\"add\":\"s3cret\"} | spec.containers[0].securityContext.capabilities.add | expected a list, got a string"
            })
    void theWebhookAndTheCliDescribeAWrongFieldAlikeWithoutItsValue(String field, String path, String description)
            throws Exception {
        String object = POD_JSON.replace("\"runAsUser\":1000", field);
        String fromWebhook = webhook(object);
        String fromCli = cliReason(object);
        assertEquals("request.object." + path + " is not a valid Pod field: " + description, fromWebhook);
        assertEquals("not a valid Pod at " + path + ": " + description, fromCli);
        for (String text : new String[] {fromWebhook, fromCli}) {
            assertFalse(text.contains("s3cret") || text.contains("31415926535"), text);
            assertFalse(INTERNAL.matcher(text).find(), text);
        }
    }

    @Test
    void aNumberOutOfRangeForAnIntFieldNamesTheRangeNotTheNumber() {
        String object = POD_JSON.replace(
                "\"image\":\"registry.example/app:1\"",
                "\"image\":\"registry.example/app:1\",\"ports\":[{\"containerPort\":31415926535}]");
        assertEquals(
                "request.object.spec.containers[0].ports[0].containerPort is not a valid Pod field: expected an integer from "
                        + "-2147483648 to 2147483647, got a number out of that range",
                webhook(object));
    }

    @Test
    void aListOfIdsGivenAsANumberIsDescribedInJsonTermsByTheCli() throws Exception {
        String yaml = """
                apiVersion: v1
                kind: Pod
                metadata: {name: p, namespace: apps}
                spec:
                  securityContext: {supplementalGroups: 5}
                  containers: [{name: app, image: registry.example/app:1}]
                """;
        assertEquals(
                "not a valid Pod at spec.securityContext.supplementalGroups: expected a list, got an integer",
                cliReason(yaml));
    }

    @Test
    void aBodyThatIsNotUtf8IsDescribedWithoutItsBytes() {
        // Four bytes that announce UTF-32, then ASCII: read as UTF-32 the next "character" is the bytes of "\"s3c".
        ByteArrayOutputStream utf32 = new ByteArrayOutputStream();
        utf32.writeBytes(new byte[] {0, 0, 0, '{'});
        utf32.writeBytes("\"s3cret-token\":1}".getBytes(StandardCharsets.US_ASCII));
        // A byte that is not UTF-8 inside a string.
        byte[] latin1 =
                review(POD_JSON.replace("registry.example/app:1", "caf\u00e9")).getBytes(StandardCharsets.ISO_8859_1);
        for (byte[] body : new byte[][] {utf32.toByteArray(), latin1}) {
            String message = assertThrows(BadRequestException.class, () -> AdmissionDecoder.decode(body))
                    .getMessage();
            assertTrue(message.contains("the text is not valid UTF-8, UTF-16 or UTF-32"), message);
            assertFalse(INTERNAL.matcher(message).find(), message);
            assertFalse(
                    message.contains("s3c")
                            || message.contains("22733363")
                            || message.toLowerCase().contains("e9"),
                    message);
        }
    }
}
