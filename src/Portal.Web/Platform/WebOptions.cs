using Microsoft.Extensions.Options;

namespace Portal.Web.Platform;

/// <summary>Settings of the web host itself (section <c>Portal:Web</c>).</summary>
public sealed class WebOptions
{
    public const string Section = "Portal:Web";

    /// <summary>
    /// True in every real deployment: cookies are <c>__Host-</c>, Secure, and HSTS is sent. False only for
    /// the embedded default on plain http://localhost in Development; the portal refuses it elsewhere.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>Reference to the secret that keys caller pseudonyms (<c>env:NAME</c> or <c>file:/path</c>).</summary>
    public string PseudonymisationKeySecret { get; set; } = "";

    /// <summary>Reference to the 32-byte key (base64) that encrypts the Data Protection key ring at rest.</summary>
    public string KeyRingEncryptionKeySecret { get; set; } = "";

    /// <summary>
    /// How many proxies in front of the portal append to <c>X-Forwarded-For</c> (docs/security-requirements.md A4): 0 = none,
    /// the socket address is the client; 1 = Cloud Run direct (the right-most entry); 2 = behind a Google
    /// load balancer (second from the right). Entries further left are the client's own claims and are ignored.
    /// </summary>
    public int TrustedProxyHops { get; set; }

    /// <summary>
    /// The portal's public origin, e.g. <c>https://portal.example.com</c> (<see cref="PublicOrigin"/>): the only
    /// origin of redirect URIs and links, and the only Host header answered. Required outside Development.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// How many sessions one agent may hold at once (review F12): a sign-in beyond it ends the agent's least
    /// recently used sessions and their verifications (docs/security-model.md, "Session cap").
    /// </summary>
    public int MaxSessionsPerAgent { get; set; } = DefaultMaxSessionsPerAgent;

    public const int DefaultMaxSessionsPerAgent = 3;

    public const int MaxSessionsPerAgentLimit = 20;
}

/// <summary>Start-up checks of <see cref="WebOptions"/> that depend on the environment; each message names its setting.</summary>
internal sealed class WebOptionsValidator(IHostEnvironment environment) : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        if (options.MaxSessionsPerAgent is < 1 or > WebOptions.MaxSessionsPerAgentLimit)
        {
            return ValidateOptionsResult.Fail($"Portal:Web:MaxSessionsPerAgent must be between 1 and {WebOptions.MaxSessionsPerAgentLimit}: how many sessions one agent may hold at once.");
        }

        if (string.IsNullOrWhiteSpace(options.PublicBaseUrl))
        {
            return environment.IsDevelopment()
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("Portal:Web:PublicBaseUrl is required outside Development: the portal's public origin, e.g. https://portal.example.com (redirect URIs and links are built from it, and other Host headers are refused).");
        }

        if (!PublicOrigin.TryParse(options.PublicBaseUrl, out var url))
        {
            return ValidateOptionsResult.Fail("Portal:Web:PublicBaseUrl must be an absolute http(s) URL with nothing after the host and port, e.g. https://portal.example.com.");
        }

        if (options.RequireHttps && url.Scheme != Uri.UriSchemeHttps)
        {
            return ValidateOptionsResult.Fail("Portal:Web:PublicBaseUrl must be https while Portal:Web:RequireHttps is true.");
        }

        return ValidateOptionsResult.Success;
    }
}
