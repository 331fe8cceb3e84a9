package dev.dynsni.bench;

final class ImportTable
{
    private final BenchContext context;

    ImportTable(BenchContext context)
    {
        this.context = context;
    }

    String run() throws Exception
    {
        return "TODO\n";
    }
}
