package dev.dynsni.bench;

final class JmhTable
{
    private final BenchContext context;

    JmhTable(BenchContext context)
    {
        this.context = context;
    }

    String run() throws Exception
    {
        return "TODO\n";
    }
}
