namespace Portal.EndToEnd.Tests;

/// <summary>Where a browser finds the portal and the IdP (emulator) it signs agents in at.</summary>
public interface IPortalSite
{
    /// <summary>The portal's public origin, with a trailing slash.</summary>
    Uri BaseUrl { get; }

    /// <summary>The IdP emulator's origin, with a trailing slash.</summary>
    Uri EmulatorBaseUrl { get; }

    /// <summary>Served over https with the tests' own certificate authority, which the browser profile does not know.</summary>
    bool ServedWithTestCertificate { get; }

    /// <summary>The emulator's phone page of a caller.</summary>
    Uri PhoneOf(string login);
}
