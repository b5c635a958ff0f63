using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Portal.Web.Platform;

/// <summary>
/// Encrypts the Data Protection key ring before it reaches the store, with AES-256-GCM under a key from a
/// secret setting. The key ring protects cookies, antiforgery tokens and the encrypted caller references;
/// kept in the same database as the records it protects, it must not be readable from that database alone.
/// </summary>
internal static class KeyRingEncryption
{
    private const string ElementName = "portalEncryptedKey";

    public static void AddKeyRingEncryption(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var web = sp.GetRequiredService<IOptions<WebOptions>>().Value;
            var value = sp.GetRequiredService<ISecretResolver>().Resolve(web.KeyRingEncryptionKeySecret, "Portal:Web:KeyRingEncryptionKeySecret");
            return KeyRingKey.Parse(value);
        });
        services.AddOptions<KeyManagementOptions>().Configure<KeyRingKey>((o, key) => o.XmlEncryptor = new Encryptor(key));
    }

    /// <summary>The key-ring encryption key: 32 bytes, given as base64.</summary>
    internal sealed class KeyRingKey
    {
        private KeyRingKey(byte[] key)
        {
            Key = key;

            // Names the key in each element (not secret) so that a rotation can tell which key sealed what.
            Id = Convert.ToHexStringLower(SHA256.HashData(key))[..16];
        }

        public byte[] Key { get; }

        public string Id { get; }

        public static KeyRingKey Parse(string base64)
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw new InvalidOperationException("Portal:Web:KeyRingEncryptionKeySecret must hold 32 random bytes in base64.");
            }

            return key.Length == 32 ? new KeyRingKey(key) : throw new InvalidOperationException("Portal:Web:KeyRingEncryptionKeySecret must hold exactly 32 bytes (base64).");
        }
    }

    private sealed class Encryptor(KeyRingKey key) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement)
        {
            var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
            var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
            var tag = new byte[AesGcm.TagByteSizes.MaxSize];
            var ciphertext = new byte[plaintext.Length];
            using (var aes = new AesGcm(key.Key, tag.Length))
            {
                aes.Encrypt(nonce, plaintext, ciphertext, tag, Encoding.ASCII.GetBytes(key.Id));
            }

            CryptographicOperations.ZeroMemory(plaintext);
            var sealedElement = new XElement(
                ElementName,
                new XAttribute("alg", "AES-256-GCM"),
                new XAttribute("keyId", key.Id),
                new XElement("nonce", Convert.ToBase64String(nonce)),
                new XElement("tag", Convert.ToBase64String(tag)),
                new XElement("value", Convert.ToBase64String(ciphertext)));
            return new EncryptedXmlInfo(sealedElement, typeof(Decryptor));
        }
    }

    /// <summary>Created by Data Protection through its service-provider constructor when it reads the ring.</summary>
    internal sealed class Decryptor(IServiceProvider services) : IXmlDecryptor
    {
        public XElement Decrypt(XElement encryptedElement)
        {
            var key = services.GetRequiredService<KeyRingKey>();
            if (encryptedElement.Name != ElementName || (string?)encryptedElement.Attribute("keyId") != key.Id)
            {
                throw new CryptographicException("This key-ring element was sealed with another key-ring encryption key.");
            }

            var nonce = Convert.FromBase64String((string)encryptedElement.Element("nonce")!);
            var tag = Convert.FromBase64String((string)encryptedElement.Element("tag")!);
            var ciphertext = Convert.FromBase64String((string)encryptedElement.Element("value")!);
            var plaintext = new byte[ciphertext.Length];
            using (var aes = new AesGcm(key.Key, tag.Length))
            {
                aes.Decrypt(nonce, ciphertext, tag, plaintext, Encoding.ASCII.GetBytes(key.Id));
            }

            try
            {
                return XElement.Parse(Encoding.UTF8.GetString(plaintext));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }
    }
}
