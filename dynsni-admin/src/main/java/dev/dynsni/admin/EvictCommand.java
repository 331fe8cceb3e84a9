package dev.dynsni.admin;

import picocli.CommandLine.Command;

@Command(name = "evict", description = "Not implemented yet.")
class EvictCommand extends StoreCommand
{
    @Override
    public Integer call()
    {
        throw CliException.usage("not implemented yet");
    }
}
