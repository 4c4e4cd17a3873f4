namespace Deconv.Cli.Explain;

internal static class HtmlRenderer
{
    public static string Render(Deconv.Explain.Explanation e, string call, int[]? at) => "";
}
