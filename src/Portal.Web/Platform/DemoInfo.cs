namespace Portal.Web.Platform;

/// <summary>Present only when the embedded demo runs (PortalWebSetup): the layout shows a demo banner linking the caller's phone, and the sign-in page lists every tenant.</summary>
public sealed record DemoInfo(Uri PhoneUrl);
