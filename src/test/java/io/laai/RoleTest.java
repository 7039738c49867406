package io.laai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.ConfigurationException;

class RoleTest {

    @Test
    void parsesEveryRoleIgnoringCase() {
        assertEquals(Role.ALL, Role.parse("all"));
        assertEquals(Role.TRAINER, Role.parse(" Trainer "));
        assertEquals(Role.EDGE, Role.parse("EDGE"));
    }

    @Test
    void wrongRoleNamesTheSetting() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Role.parse("gpu"));
        assertEquals("laai.role='gpu' is not one of all, trainer, edge; set laai.role (env LAAI_ROLE) to one of them",
                e.getMessage());
    }
}
