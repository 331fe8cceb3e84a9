package dev.dynsni.admin;

import picocli.CommandLine.Command;

@Command(name = "list", description = "Not implemented yet.")
class ListCommand extends StoreCommand
{
    @Override
    public Integer call()
    {
        throw CliException.usage("not implemented yet");
    }
}
