namespace Portal.Web.Platform;

/// <summary>Present only when the embedded emulator runs: the layout shows a demo banner linking the caller's phone.</summary>
public sealed record DemoInfo(Uri PhoneUrl);
