package dev.dynsni.bench;

final class FloodTable
{
    private final BenchContext context;

    FloodTable(BenchContext context)
    {
        this.context = context;
    }

    String run() throws Exception
    {
        return "TODO\n";
    }
}
