namespace Portal.Web.Platform;

/// <summary>Settings of the embedded IdP emulator (section <c>Portal:Emulator</c>); Development only.</summary>
public sealed class EmulatorHostingOptions
{
    public const string Section = "Portal:Emulator";

    public bool Enabled { get; set; }

    public int Port { get; set; } = 5081;
}
