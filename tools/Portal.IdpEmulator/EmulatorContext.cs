namespace Portal.IdpEmulator;

/// <summary>What the handlers need to know about the running host (its address is known only once bound).</summary>
internal sealed class EmulatorContext(EmulatorOptions options)
{
    public EmulatorOptions Options { get; } = options;

    public Uri BaseUrl { get; set; } = new("http://127.0.0.1/");

    /// <summary>
    /// The org URL as the client reached it, with a trailing slash: <see cref="EmulatorOptions.PublicUrl"/> when
    /// set (behind TLS or a proxy), else the request's own scheme and host, as Okta builds the links it returns.
    /// Never the bind address, which a client behind a proxy cannot reach.
    /// </summary>
    public Uri BaseFor(HttpRequest request)
    {
        if (!string.IsNullOrEmpty(Options.PublicUrl))
        {
            return new Uri(Options.PublicUrl.EndsWith('/') ? Options.PublicUrl : Options.PublicUrl + "/");
        }

        return request.Host.HasValue
            ? new Uri($"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}/")
            : BaseUrl;
    }
}
