package io.laai;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For @QuarkusTest classes, whose application loads stories260K (../shared, else the hub file)
 * and the example tasks in ../shared before any test method runs: skipped with a reason where
 * ../shared is absent, run (and failing) under CI.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresSharedData.Condition.class)
public @interface RequiresSharedData {

    class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            Path shared = Path.of("..", "shared", "models").toAbsolutePath().normalize();
            if (Files.isDirectory(shared) || System.getenv("CI") != null) {
                return ConditionEvaluationResult.enabled("../shared is present, or CI requires it");
            }
            return ConditionEvaluationResult.disabled(shared + " is absent: the service's model cannot load, skipped");
        }
    }
}
