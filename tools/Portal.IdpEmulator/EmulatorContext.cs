namespace Portal.IdpEmulator;

/// <summary>What the handlers need to know about the running host (its address is known only once bound).</summary>
internal sealed class EmulatorContext(EmulatorOptions options)
{
    public EmulatorOptions Options { get; } = options;

    public Uri BaseUrl { get; set; } = new("http://127.0.0.1/");

    public string Issuer => new Uri(BaseUrl, "oauth2/default").ToString();
}
