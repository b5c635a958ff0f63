using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Portal.Storage.DataProtection;

/// <summary>
/// Keeps the Data Protection key ring in the document store, so that every portal instance unprotects
/// the cookies and antiforgery tokens the others issued. Elements arrive here already passed through any
/// configured <c>IXmlEncryptor</c> (<c>ProtectKeysWith…</c>): encryption at rest plugs in there, not here.
/// </summary>
internal sealed class DocumentStoreXmlRepository(IDocumentStore store) : IXmlRepository
{
    internal static readonly CollectionPath Collection = new("dataProtectionKeys");
    private const string XmlField = "xml";
    private const int MaxIdLength = 200;

    // Data Protection's repository contract is synchronous; it is called rarely (start-up, key rotation).
    public IReadOnlyCollection<XElement> GetAllElements() => GetAllElementsAsync().GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => StoreElementAsync(element, friendlyName).GetAwaiter().GetResult();

    internal async Task<IReadOnlyCollection<XElement>> GetAllElementsAsync()
    {
        var elements = new List<XElement>();
        await foreach (var document in store.QueryAsync(new DocumentQuery(Collection)))
        {
            if (document.Data[XmlField]?.GetValue<string>() is { } xml)
            {
                elements.Add(Parse(xml));
            }
        }

        return elements;
    }

    internal async Task StoreElementAsync(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        var id = DocumentId(element, friendlyName);
        var data = new JsonObject { [XmlField] = element.ToString(SaveOptions.DisableFormatting) };
        await store.SetAsync(new DocumentKey(Collection, id), data, expireAt: null);
    }

    /// <summary>A key's id attribute when it has one (a key is stored once); otherwise a unique name, so that two revocations never overwrite each other.</summary>
    internal static string DocumentId(XElement element, string? friendlyName)
    {
        var keyId = Sanitise(element.Attribute("id")?.Value);
        if (keyId is not null)
        {
            return keyId;
        }

        var suffix = "-" + Guid.NewGuid().ToString("N");
        var name = Sanitise(friendlyName) ?? "element";
        return name[..Math.Min(name.Length, MaxIdLength - suffix.Length)] + suffix;
    }

    private static string? Sanitise(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var chars = value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_').ToArray();
        var sanitised = new string(chars, 0, Math.Min(chars.Length, MaxIdLength));
        return sanitised.Trim('.').Length == 0 ? null : sanitised;
    }

    private static XElement Parse(string xml)
    {
        // The store is outside the process: a tampered row must not be able to pull in DTDs or entities.
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        using var text = new StringReader(xml);
        using var reader = XmlReader.Create(text, settings);
        return XElement.Load(reader);
    }
}
