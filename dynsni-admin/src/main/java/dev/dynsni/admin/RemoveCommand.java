package dev.dynsni.admin;

import picocli.CommandLine.Command;

@Command(name = "remove", description = "Not implemented yet.")
class RemoveCommand extends StoreCommand
{
    @Override
    public Integer call()
    {
        throw CliException.usage("not implemented yet");
    }
}
