package dev.dynsni.admin;

import picocli.CommandLine.Command;

@Command(name = "show", description = "Not implemented yet.")
class ShowCommand extends StoreCommand
{
    @Override
    public Integer call()
    {
        throw CliException.usage("not implemented yet");
    }
}
