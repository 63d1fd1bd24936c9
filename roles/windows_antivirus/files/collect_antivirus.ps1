# windows_antivirus collector: one JSON object for runner/evaluators/windows_antivirus.py (schema 1).
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
# Probes: os (Win32_OperatingSystem), defender (Get-MpComputerStatus), sophos (services + AutoUpdate registry),
# security_center (root/SecurityCenter2 AntiVirusProduct, client editions only).
[CmdletBinding()]
param(
    [string]$SophosServicePattern = 'Sophos*'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_antivirus'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

function Get-RegValue([string]$Path, [string]$Name) {
    if (-not (Test-Path -LiteralPath $Path)) { return $null }
    $item = Get-ItemProperty -LiteralPath $Path -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    if ($item.PSObject.Properties.Name -contains $Name) { return $item.$Name }
    return $null
}

try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $result.os = [ordered]@{
        available    = $true
        reason       = ''
        caption      = [string]$os.Caption
        product_type = [int]$os.ProductType
    }
} catch {
    $result.os = [ordered]@{ available = $false; reason = "Win32_OperatingSystem query failed: $($_.Exception.Message)" }
}

$defenderProps = @(
    'AMEngineVersion', 'AMProductVersion', 'AMRunningMode', 'AMServiceEnabled', 'AMServiceVersion',
    'AntispywareEnabled', 'AntispywareSignatureAge', 'AntispywareSignatureLastUpdated', 'AntivirusEnabled',
    'AntivirusSignatureAge', 'AntivirusSignatureLastUpdated', 'AntivirusSignatureVersion',
    'BehaviorMonitorEnabled', 'ComputerState', 'DefenderSignaturesOutOfDate', 'FullScanAge', 'FullScanEndTime',
    'IoavProtectionEnabled', 'IsTamperProtected', 'NISEnabled', 'OnAccessProtectionEnabled', 'QuickScanAge',
    'QuickScanEndTime', 'RealTimeProtectionEnabled'
)
if (-not (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue)) {
    $result.defender = [ordered]@{
        available = $false
        reason    = 'Get-MpComputerStatus is not available (Windows-Defender feature not installed)'
    }
} else {
    try {
        $mp = Get-MpComputerStatus
        $status = [ordered]@{}
        foreach ($name in $defenderProps) {
            # older platforms lack AMRunningMode / IsTamperProtected: leave them out, the evaluator says so
            if ($mp.PSObject.Properties.Name -contains $name) {
                $value = $mp.$name
                if ($value -is [DateTime]) { $value = ConvertTo-IsoUtc $value }
                $status[$name] = $value
            }
        }
        $result.defender = [ordered]@{ available = $true; reason = ''; status = $status }
    } catch {
        $result.defender = [ordered]@{ available = $false; reason = "Get-MpComputerStatus failed: $($_.Exception.Message)" }
    }
}

try {
    $services = @(Get-Service -ErrorAction SilentlyContinue | Where-Object {
            $_.Name -like $SophosServicePattern -or $_.DisplayName -like $SophosServicePattern -or $_.Name -eq 'SEDService'
        } | ForEach-Object {
            # enum names ('Running', 'Automatic'), as PowerShell 7 with -EnumsAsStrings would write them
            [pscustomobject]@{
                Name        = $_.Name
                DisplayName = $_.DisplayName
                Status      = [string]$_.Status
                StartType   = [string]$_.StartType
            }
        })
    if ($services.Count -eq 0) {
        $result.sophos = [ordered]@{ available = $false; reason = "Sophos is not installed (no service named $SophosServicePattern)" }
    } else {
        $upd = 'HKLM:\SOFTWARE\WOW6432Node\Sophos\AutoUpdate\UpdateStatus'
        if (-not (Test-Path -LiteralPath $upd)) { $upd = 'HKLM:\SOFTWARE\Sophos\AutoUpdate\UpdateStatus' }
        $update = [ordered]@{
            LastUpdateTime      = Get-RegValue $upd 'LastUpdateTime'
            Result              = Get-RegValue $upd 'Result'
            LastGoodInstallTime = Get-RegValue "$upd\Details" 'LastGoodInstallTime'
        }
        $version = Get-RegValue "$upd\Details" 'Version'
        $sed = Get-RegValue 'HKLM:\SYSTEM\CurrentControlSet\Services\Sophos Endpoint Defense\TamperProtection\Config' 'SEDEnabled'
        $result.sophos = [ordered]@{
            available         = $true
            reason            = ''
            version           = [string]$version
            services          = $services
            update            = $update
            tamper_protection = [ordered]@{ SEDEnabled = $sed }
        }
    }
} catch {
    $result.sophos = [ordered]@{ available = $false; reason = "Sophos probe failed: $($_.Exception.Message)" }
}

try {
    $ns = Get-CimInstance -Namespace root -ClassName __NAMESPACE -Filter "Name='SecurityCenter2'" -ErrorAction SilentlyContinue
    if ($null -eq $ns) {
        $result.security_center = [ordered]@{ available = $false; reason = 'root/SecurityCenter2 is not present (Windows Server edition)' }
    } else {
        $products = @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct |
            Select-Object -Property 'displayName', 'productState', 'pathToSignedProductExe', 'timestamp')
        $result.security_center = [ordered]@{ available = $true; reason = ''; products = $products }
    }
} catch {
    $result.security_center = [ordered]@{ available = $false; reason = "SecurityCenter2 query failed: $($_.Exception.Message)" }
}

$result | ConvertTo-Json -Depth 5 -Compress
