package dev.sluice.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Autograd against central finite differences, float64, on a tiny model with every feature on. */
class GradientCheckTest {

    @Test
    void everyParameterGroupMatchesFiniteDifferences() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Gpt model = new Gpt(Models.allFeatures(), manager, DataType.FLOAT64, 7);
            Models.perturb(model, 3, 0.3);
            NDArray rows = Models.tokens(manager, 11, 2, 13);
            // window 8 against an initial 4: sliding windows (4 and 8) and rotary rescaling are both active
            AttentionSchedule schedule = model.schedule(12, 4, 8);
            assertTrue(schedule.rope().attentionTemperature() > 1);

            Map<String, double[]> autograd = new HashMap<>();
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                scope.suppressNotUsedWarning();
                gc.backward(model.loss(rows, schedule));
                for (Gpt.Param p : model.parameters()) {
                    autograd.put(p.name(), p.value().getGradient().toDoubleArray());
                }
            }

            SplittableRandom pick = new SplittableRandom(5);
            double h = 1e-6;
            int checked = 0;
            for (Gpt.Param p : model.parameters()) {
                double[] w = p.value().toDoubleArray();
                for (int k = 0; k < Math.min(3, w.length); k++) {
                    int i = pick.nextInt(w.length);
                    double saved = w[i];
                    w[i] = saved + h;
                    p.value().set(w);
                    double plus = loss(model, rows, schedule);
                    w[i] = saved - h;
                    p.value().set(w);
                    double minus = loss(model, rows, schedule);
                    w[i] = saved;
                    p.value().set(w);
                    double numeric = (plus - minus) / (2 * h);
                    double analytic = autograd.get(p.name())[i];
                    assertEquals(numeric, analytic, 1e-7 + 1e-5 * Math.abs(numeric),
                            p.name() + "[" + i + "]: finite difference " + numeric + " vs autograd " + analytic);
                    checked++;
                }
            }
            assertTrue(checked > 40, "entries checked: " + checked);
            model.close();
        }
    }

    static double loss(Gpt model, NDArray rows, AttentionSchedule schedule) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return model.loss(rows, schedule).getDouble();
        }
    }
}
