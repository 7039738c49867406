package io.laai.edge;

import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * OpenAI's error object, {@code {"error": {"message", "type", "param", "code"}}}, which the
 * OpenAI-compatible endpoints answer instead of problem+json: OpenAI's SDKs and the tools built on
 * them read only that shape. LAAI's own endpoints keep problem+json.
 */
final class OpenAiError {

    private OpenAiError() {
    }

    /** True for the paths OpenAI clients call: completions, chat completions, models. */
    static boolean covers(String path) {
        if (path == null) {
            return false;
        }
        return path.equals("/v1/completions") || path.startsWith("/v1/completions/") || path.startsWith("/v1/chat/")
                || path.equals("/v1/models") || path.startsWith("/v1/models/");
    }

    static Map<String, Object> body(int status, String message, String param, String code) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type(status));
        error.put("param", param);
        error.put("code", code != null ? code : status == 404 && "model".equals(param) ? "model_not_found"
                : status == 401 ? "invalid_api_key" : null);
        return Map.of("error", error);
    }

    static Response response(int status, String message, String param, String code) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(body(status, message, param, code)).build();
    }

    /** OpenAI's error types by status; clients branch on the status, the type is for people. */
    static String type(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }
}
