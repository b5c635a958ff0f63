namespace Portal.Web.Platform;

/// <summary>
/// The response headers every page and every error carries (docs/security-requirements.md H1, H2). They are set by one
/// middleware that runs before anything can fail or short-circuit, so a 404, a 429 or a 500 is as locked
/// down as a page.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>Two years: above the one year H2 asks for and the six months browsers' preload lists need.</summary>
    public const int HstsMaxAgeSeconds = 63072000;

    public static IServiceCollection AddPortalSecurityHeaders(this IServiceCollection services)
    {
        services.AddSecurityHeaderPolicies().SetDefaultPolicy(p => p
            // nosniff, X-Frame-Options DENY (for browsers without frame-ancestors), no Server header.
            .AddDefaultSecurityHeaders()
            .AddFrameOptionsDeny()
            .AddContentTypeOptionsNoSniff()
            .RemoveServerHeader()
            .AddStrictTransportSecurityMaxAgeIncludeSubDomains(maxAgeInSeconds: HstsMaxAgeSeconds)

            // Caller data must not leak to another site through the Referer of a link or a redirect.
            .AddReferrerPolicyNoReferrer()

            // A page opened by another site cannot script the portal's window (and vice versa).
            .AddCrossOriginOpenerPolicy(c => c.SameOrigin())
            .AddCrossOriginResourcePolicy(c => c.SameOrigin())

            // The portal uses no camera, microphone, location, payment or sensor: a script injected
            // despite the CSP gets none of them either. Named one by one rather than the library's default
            // set: that set names features Chromium does not know (web-share), and every page then logs
            // "Unrecognized feature" in the console.
            .AddPermissionsPolicy(p =>
            {
                p.AddAccelerometer().None();
                p.AddCamera().None();
                p.AddGeolocation().None();
                p.AddGyroscope().None();
                p.AddMagnetometer().None();
                p.AddMicrophone().None();
                p.AddPayment().None();
                p.AddUsb().None();
            })
            .AddContentSecurityPolicy(c =>
            {
                // Nothing loads unless named below; no inline script or style is ever allowed, so an
                // injected <script> or style attribute is inert. The per-response nonce is the only way
                // to run a script that is not a file of this origin.
                c.AddDefaultSrc().None();
                c.AddScriptSrc().Self().WithNonce();
                c.AddStyleSrc().Self();
                c.AddImgSrc().Self();
                c.AddConnectSrc().Self();
                c.AddFontSrc().None();
                c.AddFormAction().Self();
                c.AddBaseUri().None();
                c.AddObjectSrc().None();
                c.AddFrameAncestors().None();
            }));
        return services;
    }
}
