package io.laai.model;

import java.util.Locale;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** laai.device / --device: auto picks the first GPU when libtorch sees one. */
public final class Devices {
    private Devices() {
    }

    public static Device resolve(String setting) {
        io.laai.model.Engine.requireLibtorch("DJL (training, eval, engine-info, the djl engine)");
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        return switch (setting.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> gpus > 0 ? Device.gpu() : Device.cpu();
            case "cpu" -> Device.cpu();
            case "gpu" -> {
                if (gpus == 0) {
                    throw new IllegalArgumentException("laai.device=gpu but libtorch sees no GPU"
                            + " (this build ships the CPU libtorch; see README, Deploy); use auto or cpu");
                }
                yield Device.gpu();
            }
            default -> throw new IllegalArgumentException("laai.device='" + setting + "' is not one of auto, cpu, gpu");
        };
    }
}
