package dev.dynsni.admin;

import picocli.CommandLine.Command;

@Command(name = "doctor", description = "Not implemented yet.")
class DoctorCommand extends StoreCommand
{
    @Override
    public Integer call()
    {
        throw CliException.usage("not implemented yet");
    }
}
