package dev.dynsni.bench;

final class PropagationTable
{
    private final BenchContext context;

    PropagationTable(BenchContext context)
    {
        this.context = context;
    }

    String run() throws Exception
    {
        return "TODO\n";
    }
}
