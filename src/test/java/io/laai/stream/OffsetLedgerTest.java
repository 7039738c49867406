package io.laai.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetLedgerTest {

    static final TopicPartition P0 = new TopicPartition("t", 0);
    static final TopicPartition P1 = new TopicPartition("t", 1);

    @Test
    void commitsOnlyPastTheLongestAccountedForPrefix() {
        OffsetLedger l = new OffsetLedger();
        for (long o = 0; o < 4; o++) {
            l.received(P0, o);
        }
        assertEquals(Map.of(), l.committable());
        l.accounted(P0, 1); // a later task's outcome first: offset 0 still trains
        assertEquals(Map.of(), l.committable());
        l.accounted(P0, 0);
        assertEquals(Map.of(P0, 2L), l.committable());
        l.committed(Map.of(P0, 2L));
        assertEquals(Map.of(), l.committable(), "nothing new to commit");
        assertEquals(2, l.outstanding());
        l.accounted(P0, 3);
        l.accounted(P0, 2);
        assertEquals(Map.of(P0, 4L), l.committable());
    }

    @Test
    void aFencedTransactionSendsAnUnchangedOffsetWhenThePrefixDidNotMove() {
        OffsetLedger l = new OffsetLedger();
        l.received(P0, 7);
        l.received(P0, 8);
        assertEquals(7L, l.unchanged(P0), "the first received: where the previous commit left the partition");
        l.accounted(P0, 7);
        l.committed(l.committable());
        assertEquals(8L, l.unchanged(P0));
        assertEquals(null, l.unchanged(P1), "not owned: nothing may be sent for it");
    }

    @Test
    void anAbortedTransactionTakesItsMarksBack() {
        OffsetLedger l = new OffsetLedger();
        l.received(P0, 10);
        l.accounted(P0, 10);
        assertEquals(Map.of(P0, 11L), l.committable());
        l.retract(P0, 10);
        assertEquals(Map.of(), l.committable());
    }

    @Test
    void partitionsGivenUpAreForgottenAndLateMarksIgnored() {
        OffsetLedger l = new OffsetLedger();
        l.assigned(List.of(P0, P1));
        assertTrue(l.owns(P1));
        l.received(P1, 5);
        l.release(List.of(P1));
        assertFalse(l.owns(P1));
        l.accounted(P1, 5); // an outcome that committed nothing for it: ignored
        assertEquals(Map.of(), l.committable());
        assertEquals(0, l.outstanding());
    }
}
