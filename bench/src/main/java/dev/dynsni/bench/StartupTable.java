package dev.dynsni.bench;

final class StartupTable
{
    private final BenchContext context;

    StartupTable(BenchContext context)
    {
        this.context = context;
    }

    String run() throws Exception
    {
        return "TODO\n";
    }
}
