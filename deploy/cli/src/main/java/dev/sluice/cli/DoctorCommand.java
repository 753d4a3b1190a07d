package dev.sluice.cli;

import dev.sluice.trainer.Doctor;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code sluice doctor}: what the trainer would run on here, as one JSON object. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Prints one JSON object: Java, DJL and the libtorch actually loaded (version, flavour, file), "
                + "the devices PyTorch sees with their memory, cores, and whether tcmalloc is preloaded."})
final class DoctorCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        System.out.println(Doctor.report());
        return 0;
    }
}
