package io.laai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.laai.SharedData;
import io.laai.cli.Main;

/** stories260K from GGUF, greedy, must print what llama2.c's run.c prints. */
class StoriesGoldenTest {

    @Test
    void generateCommandReproducesTheReferenceText() {
        String prompt = "Once upon a time";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Main.commandLine().execute("generate", "--model", SharedData.stories260K().toString(),
                    "--prompt", prompt, "--max-tokens", "60", "--device", "cpu");
        } finally {
            System.setOut(original);
        }
        assertEquals(0, code);
        String completion = out.toString(StandardCharsets.UTF_8);
        assertTrue(completion.startsWith(","), "completion only, not the prompt: " + completion);
        String text = prompt + completion;
        assertEquals(SharedData.STORIES_REFERENCE.substring(0, 170), text.substring(0, 170));
    }
}
