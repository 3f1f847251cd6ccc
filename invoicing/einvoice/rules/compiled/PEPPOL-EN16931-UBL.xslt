<?xml version='1.0' encoding='UTF-8'?>
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:svrl="http://purl.oclc.org/dsdl/svrl" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:ubl-creditnote="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" xmlns:ubl-invoice="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:u="utils" version="3.0">
  <xsl:variable name="profile" select="       if (/*/cbc:ProfileID and matches(normalize-space(/*/cbc:ProfileID), 'urn:fdc:peppol.eu:2017:poacc:billing:([0-9]{2}):1.0')) then         tokenize(normalize-space(/*/cbc:ProfileID), ':')[7]       else         'Unknown'"/>
  <xsl:variable name="supplierCountry" select="       if (/*/cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2)) then         upper-case(normalize-space(/*/cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2)))       else         if (/*/cac:TaxRepresentativeParty/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2)) then           upper-case(normalize-space(/*/cac:TaxRepresentativeParty/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2)))         else           if (/*/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode) then             upper-case(normalize-space(/*/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode))           else             'XX'"/>
  <xsl:variable name="documentCurrencyCode" select="/*/cbc:DocumentCurrencyCode"/>
  <xsl:function name="u:gln" as="xs:boolean">
		<xsl:param name="val"/>
		<xsl:variable name="length" select="string-length($val) - 1"/>
		<xsl:variable name="digits" select="reverse(for $i in string-to-codepoints(substring($val, 0, $length + 1)) return $i - 48)"/>
		<xsl:variable name="weightedSum" select="sum(for $i in (0 to $length - 1) return $digits[$i + 1] * (1 + ((($i + 1) mod 2) * 2)))"/>
		<xsl:value-of select="(10 - ($weightedSum mod 10)) mod 10 = number(substring($val, $length + 1, 1))"/>
	</xsl:function>
  <xsl:function name="u:slack" as="xs:boolean">
		<xsl:param name="exp" as="xs:decimal"/>
		<xsl:param name="val" as="xs:decimal"/>
		<xsl:param name="slack" as="xs:decimal"/>
		<xsl:value-of select="xs:decimal($exp + $slack) &gt;= $val and xs:decimal($exp - $slack) &lt;= $val"/>
	</xsl:function>
  <xsl:function name="u:mod11" as="xs:boolean">
		<xsl:param name="val"/>
		<xsl:variable name="length" select="string-length($val) - 1"/>
		<xsl:variable name="digits" select="reverse(for $i in string-to-codepoints(substring($val, 0, $length + 1)) return $i - 48)"/>
		<xsl:variable name="weightedSum" select="sum(for $i in (0 to $length - 1) return $digits[$i + 1] * (($i mod 6) + 2))"/>
		<xsl:value-of select="number($val) &gt; 0 and (11 - ($weightedSum mod 11)) mod 11 = number(substring($val, $length + 1, 1))"/>
	</xsl:function>
  <xsl:template match="/">
    <svrl:schematron-output title="Rules for PEPPOL BIS 3.0 Billing">
      <svrl:active-pattern name="pattern-0"/>
      <xsl:apply-templates select="/" mode="pattern-0"/>
      <svrl:active-pattern name="pattern-1"/>
      <xsl:apply-templates select="/" mode="pattern-1"/>
      <svrl:active-pattern name="pattern-2"/>
      <xsl:apply-templates select="/" mode="pattern-2"/>
      <svrl:active-pattern name="pattern-3"/>
      <xsl:apply-templates select="/" mode="pattern-3"/>
      <svrl:active-pattern name="pattern-4"/>
      <xsl:apply-templates select="/" mode="pattern-4"/>
      <svrl:active-pattern name="pattern-5"/>
      <xsl:apply-templates select="/" mode="pattern-5"/>
      <svrl:active-pattern name="pattern-6"/>
      <xsl:apply-templates select="/" mode="pattern-6"/>
    </svrl:schematron-output>
  </xsl:template>
  <xsl:template match="//*[not(*) and not(normalize-space())]" mode="pattern-0" priority="1">
    <xsl:if test="not(false())">
      <svrl:failed-assert test="false()" id="PEPPOL-EN16931-R008" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Document MUST not contain empty elements.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-0"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-0" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-0"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-0" priority="-1"/>
  <xsl:template match="ubl-creditnote:CreditNote | ubl-invoice:Invoice" mode="pattern-1" priority="17">
    <xsl:if test="not(cbc:ProfileID)">
      <svrl:failed-assert test="cbc:ProfileID" id="PEPPOL-EN16931-R001" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Business process MUST be provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not($profile != 'Unknown')">
      <svrl:failed-assert test="$profile != 'Unknown'" id="PEPPOL-EN16931-R007" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Business process MUST be in the format 'urn:fdc:peppol.eu:2017:poacc:billing:NN:1.0' where NN indicates the process number.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(count(cbc:Note) &lt;= 1)">
      <svrl:failed-assert test="count(cbc:Note) &lt;= 1" id="PEPPOL-EN16931-R002" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>No more than one note is allowed on document level.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(cbc:BuyerReference or cac:OrderReference/cbc:ID)">
      <svrl:failed-assert test="cbc:BuyerReference or cac:OrderReference/cbc:ID" id="PEPPOL-EN16931-R003" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>A buyer reference or purchase order reference MUST be provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(starts-with(normalize-space(cbc:CustomizationID/text()), 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0'))">
      <svrl:failed-assert test="starts-with(normalize-space(cbc:CustomizationID/text()), 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0')" id="PEPPOL-EN16931-R004" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Specification identifier MUST have the value 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0'.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(count(cac:TaxTotal[cac:TaxSubtotal]) = 1)">
      <svrl:failed-assert test="count(cac:TaxTotal[cac:TaxSubtotal]) = 1" id="PEPPOL-EN16931-R053" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Only one tax total with tax subtotals MUST be provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(count(cac:TaxTotal[not(cac:TaxSubtotal)]) = (if (cbc:TaxCurrencyCode) then 1 else 0))">
      <svrl:failed-assert test="count(cac:TaxTotal[not(cac:TaxSubtotal)]) = (if (cbc:TaxCurrencyCode) then 1 else 0)" id="PEPPOL-EN16931-R054" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Only one tax total without tax subtotals MUST be provided when tax currency code is provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not(cbc:TaxCurrencyCode) or (cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:TaxCurrencyCode)] &lt;= 0 and cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:DocumentCurrencyCode)] &lt;= 0) or (cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:TaxCurrencyCode)] &gt;= 0 and cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:DocumentCurrencyCode)] &gt;= 0) )">
      <svrl:failed-assert test="not(cbc:TaxCurrencyCode) or (cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:TaxCurrencyCode)] &lt;= 0 and cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:DocumentCurrencyCode)] &lt;= 0) or (cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:TaxCurrencyCode)] &gt;= 0 and cac:TaxTotal/cbc:TaxAmount[@currencyID=normalize-space(../../cbc:DocumentCurrencyCode)] &gt;= 0) " id="PEPPOL-EN16931-R055" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Invoice total VAT amount and Invoice total VAT amount in accounting currency MUST have the same operational sign</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not((count(cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']) &lt;= 1))">
      <svrl:failed-assert test="(count(cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']) &lt;= 1)" id="PEPPOL-EN16931-R006" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Only one invoiced object is allowed on document level</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not((count(cac:AdditionalDocumentReference[cbc:DocumentTypeCode='50']) &lt;= 1))">
      <svrl:failed-assert test="(count(cac:AdditionalDocumentReference[cbc:DocumentTypeCode='50']) &lt;= 1)" id="PEPPOL-EN16931-R080" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Only one project reference is allowed on document level</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cbc:TaxCurrencyCode" mode="pattern-1" priority="16">
    <xsl:if test="not(not(normalize-space(text()) = normalize-space(../cbc:DocumentCurrencyCode/text())))">
      <svrl:failed-assert test="not(normalize-space(text()) = normalize-space(../cbc:DocumentCurrencyCode/text()))" id="PEPPOL-EN16931-R005" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>VAT accounting currency code MUST be different from invoice currency code when provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cac:AccountingCustomerParty/cac:Party" mode="pattern-1" priority="15">
    <xsl:if test="not(cbc:EndpointID)">
      <svrl:failed-assert test="cbc:EndpointID" id="PEPPOL-EN16931-R010" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Buyer electronic address MUST be provided</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cac:AccountingSupplierParty/cac:Party" mode="pattern-1" priority="14">
    <xsl:if test="not(cbc:EndpointID)">
      <svrl:failed-assert test="cbc:EndpointID" id="PEPPOL-EN16931-R020" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Seller electronic address MUST be provided</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="ubl-invoice:Invoice/cac:AllowanceCharge[cbc:MultiplierFactorNumeric and not(cbc:BaseAmount)] | ubl-invoice:Invoice/cac:InvoiceLine/cac:AllowanceCharge[cbc:MultiplierFactorNumeric and not(cbc:BaseAmount)] | ubl-creditnote:CreditNote/cac:AllowanceCharge[cbc:MultiplierFactorNumeric and not(cbc:BaseAmount)] | ubl-creditnote:CreditNote/cac:CreditNoteLine/cac:AllowanceCharge[cbc:MultiplierFactorNumeric and not(cbc:BaseAmount)]" mode="pattern-1" priority="13">
    <xsl:if test="not(false())">
      <svrl:failed-assert test="false()" id="PEPPOL-EN16931-R041" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Allowance/charge base amount MUST be provided when allowance/charge percentage is provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="ubl-invoice:Invoice/cac:AllowanceCharge[not(cbc:MultiplierFactorNumeric) and cbc:BaseAmount] | ubl-invoice:Invoice/cac:InvoiceLine/cac:AllowanceCharge[not(cbc:MultiplierFactorNumeric) and cbc:BaseAmount] | ubl-creditnote:CreditNote/cac:AllowanceCharge[not(cbc:MultiplierFactorNumeric) and cbc:BaseAmount] | ubl-creditnote:CreditNote/cac:CreditNoteLine/cac:AllowanceCharge[not(cbc:MultiplierFactorNumeric) and cbc:BaseAmount]" mode="pattern-1" priority="12">
    <xsl:if test="not(false())">
      <svrl:failed-assert test="false()" id="PEPPOL-EN16931-R042" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Allowance/charge percentage MUST be provided when allowance/charge base amount is provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="ubl-invoice:Invoice/cac:AllowanceCharge | ubl-invoice:Invoice/cac:InvoiceLine/cac:AllowanceCharge | ubl-creditnote:CreditNote/cac:AllowanceCharge | ubl-creditnote:CreditNote/cac:CreditNoteLine/cac:AllowanceCharge" mode="pattern-1" priority="11">
    <xsl:if test="not(           not(cbc:MultiplierFactorNumeric and cbc:BaseAmount) or u:slack(if (cbc:Amount) then             cbc:Amount           else             0, (xs:decimal(cbc:BaseAmount) * xs:decimal(cbc:MultiplierFactorNumeric)) div 100, 0.02))">
      <svrl:failed-assert test="           not(cbc:MultiplierFactorNumeric and cbc:BaseAmount) or u:slack(if (cbc:Amount) then             cbc:Amount           else             0, (xs:decimal(cbc:BaseAmount) * xs:decimal(cbc:MultiplierFactorNumeric)) div 100, 0.02)" id="PEPPOL-EN16931-R040" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Allowance/charge amount must equal base amount * percentage/100 if base amount and percentage exists</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(normalize-space(cbc:ChargeIndicator/text()) = 'true' or normalize-space(cbc:ChargeIndicator/text()) = 'false')">
      <svrl:failed-assert test="normalize-space(cbc:ChargeIndicator/text()) = 'true' or normalize-space(cbc:ChargeIndicator/text()) = 'false'" id="PEPPOL-EN16931-R043" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Allowance/charge ChargeIndicator value MUST equal 'true' or 'false'</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="         cac:PaymentMeans[some $code in tokenize('49 59', '\s')           satisfies normalize-space(cbc:PaymentMeansCode) = $code]" mode="pattern-1" priority="10">
    <xsl:if test="not(cac:PaymentMandate/cbc:ID)">
      <svrl:failed-assert test="cac:PaymentMandate/cbc:ID" id="PEPPOL-EN16931-R061" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Mandate reference MUST be provided for direct debit.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cbc:Amount | cbc:BaseAmount | cbc:PriceAmount | cac:TaxTotal[cac:TaxSubtotal]/cbc:TaxAmount | cbc:TaxableAmount | cbc:LineExtensionAmount | cbc:TaxExclusiveAmount | cbc:TaxInclusiveAmount | cbc:AllowanceTotalAmount | cbc:ChargeTotalAmount | cbc:PrepaidAmount | cbc:PayableRoundingAmount | cbc:PayableAmount" mode="pattern-1" priority="9">
    <xsl:if test="not(@currencyID = $documentCurrencyCode)">
      <svrl:failed-assert test="@currencyID = $documentCurrencyCode" id="PEPPOL-EN16931-R051" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>All currencyID attributes must have the same value as the invoice currency code (BT-5), except for the invoice total VAT amount in accounting currency (BT-111).</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="ubl-invoice:Invoice[cac:InvoicePeriod/cbc:StartDate]/cac:InvoiceLine/cac:InvoicePeriod/cbc:StartDate | ubl-creditnote:CreditNote[cac:InvoicePeriod/cbc:StartDate]/cac:CreditNoteLine/cac:InvoicePeriod/cbc:StartDate" mode="pattern-1" priority="8">
    <xsl:if test="not(xs:date(text()) &gt;= xs:date(../../../cac:InvoicePeriod/cbc:StartDate))">
      <svrl:failed-assert test="xs:date(text()) &gt;= xs:date(../../../cac:InvoicePeriod/cbc:StartDate)" id="PEPPOL-EN16931-R110" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Start date of line period MUST be within invoice period.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="ubl-invoice:Invoice[cac:InvoicePeriod/cbc:EndDate]/cac:InvoiceLine/cac:InvoicePeriod/cbc:EndDate | ubl-creditnote:CreditNote[cac:InvoicePeriod/cbc:EndDate]/cac:CreditNoteLine/cac:InvoicePeriod/cbc:EndDate" mode="pattern-1" priority="7">
    <xsl:if test="not(xs:date(text()) &lt;= xs:date(../../../cac:InvoicePeriod/cbc:EndDate))">
      <svrl:failed-assert test="xs:date(text()) &lt;= xs:date(../../../cac:InvoicePeriod/cbc:EndDate)" id="PEPPOL-EN16931-R111" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>End date of line period MUST be within invoice period.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cac:InvoiceLine | cac:CreditNoteLine" mode="pattern-1" priority="6">
    <xsl:variable name="lineExtensionAmount" select="           if (cbc:LineExtensionAmount) then             xs:decimal(cbc:LineExtensionAmount)           else             0"/>
    <xsl:variable name="quantity" select="           if (/ubl-invoice:Invoice) then             (if (cbc:InvoicedQuantity) then               xs:decimal(cbc:InvoicedQuantity)             else               1)           else             (if (cbc:CreditedQuantity) then               xs:decimal(cbc:CreditedQuantity)             else               1)"/>
    <xsl:variable name="priceAmount" select="           if (cac:Price/cbc:PriceAmount) then             xs:decimal(cac:Price/cbc:PriceAmount)           else             0"/>
    <xsl:variable name="baseQuantity" select="           if (cac:Price/cbc:BaseQuantity and xs:decimal(cac:Price/cbc:BaseQuantity) != 0) then             xs:decimal(cac:Price/cbc:BaseQuantity)           else             1"/>
    <xsl:variable name="allowancesTotal" select="           if (cac:AllowanceCharge[normalize-space(cbc:ChargeIndicator) = 'false']) then             round(sum(cac:AllowanceCharge[normalize-space(cbc:ChargeIndicator) = 'false']/cbc:Amount/xs:decimal(.)) * 10 * 10) div 100           else             0"/>
    <xsl:variable name="chargesTotal" select="           if (cac:AllowanceCharge[normalize-space(cbc:ChargeIndicator) = 'true']) then             round(sum(cac:AllowanceCharge[normalize-space(cbc:ChargeIndicator) = 'true']/cbc:Amount/xs:decimal(.)) * 10 * 10) div 100           else             0"/>
    <xsl:if test="not(u:slack($lineExtensionAmount, ($quantity * ($priceAmount div $baseQuantity)) + $chargesTotal - $allowancesTotal, 0.02))">
      <svrl:failed-assert test="u:slack($lineExtensionAmount, ($quantity * ($priceAmount div $baseQuantity)) + $chargesTotal - $allowancesTotal, 0.02)" id="PEPPOL-EN16931-R120" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Invoice line net amount MUST equal (Invoiced quantity * (Item net price/item price base quantity) + Sum of invoice line charge amount - sum of invoice line allowance amount</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not(cac:Price/cbc:BaseQuantity) or xs:decimal(cac:Price/cbc:BaseQuantity) &gt; 0)">
      <svrl:failed-assert test="not(cac:Price/cbc:BaseQuantity) or xs:decimal(cac:Price/cbc:BaseQuantity) &gt; 0" id="PEPPOL-EN16931-R121" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Base quantity MUST be a positive number above zero.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not((count(cac:DocumentReference) &lt;= 1))">
      <svrl:failed-assert test="(count(cac:DocumentReference) &lt;= 1)" id="PEPPOL-EN16931-R100" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Only one invoiced object is allowed pr line</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not((not(cac:DocumentReference) or (cac:DocumentReference/cbc:DocumentTypeCode='130')))">
      <svrl:failed-assert test="(not(cac:DocumentReference) or (cac:DocumentReference/cbc:DocumentTypeCode='130'))" id="PEPPOL-EN16931-R101" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Element Document reference can only be used for Invoice line object</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cac:Price/cac:AllowanceCharge" mode="pattern-1" priority="5">
    <xsl:if test="not(normalize-space(cbc:ChargeIndicator) = 'false')">
      <svrl:failed-assert test="normalize-space(cbc:ChargeIndicator) = 'false'" id="PEPPOL-EN16931-R044" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Charge on price level is NOT allowed.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not(cbc:BaseAmount) or xs:decimal(../cbc:PriceAmount) = xs:decimal(cbc:BaseAmount) - xs:decimal(cbc:Amount))">
      <svrl:failed-assert test="not(cbc:BaseAmount) or xs:decimal(../cbc:PriceAmount) = xs:decimal(cbc:BaseAmount) - xs:decimal(cbc:Amount)" id="PEPPOL-EN16931-R046" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Item net price MUST equal (Gross price - Allowance amount) when gross price is provided.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cac:Price/cbc:BaseQuantity[@unitCode]" mode="pattern-1" priority="4">
    <xsl:variable name="hasQuantity" select="../../cbc:InvoicedQuantity or ../../cbc:CreditedQuantity"/>
    <xsl:variable name="quantity" select="           if (/ubl-invoice:Invoice) then             ../../cbc:InvoicedQuantity           else             ../../cbc:CreditedQuantity"/>
    <xsl:if test="not(not($hasQuantity) or @unitCode = $quantity/@unitCode)">
      <svrl:failed-assert test="not($hasQuantity) or @unitCode = $quantity/@unitCode" id="PEPPOL-EN16931-R130" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Unit code of price base quantity MUST be same as invoiced quantity.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cbc:EndpointID[@schemeID = '0088'] | cac:PartyIdentification/cbc:ID[@schemeID = '0088'] | cbc:CompanyID[@schemeID = '0088']" mode="pattern-1" priority="3">
    <xsl:if test="not(matches(normalize-space(), '^[0-9]+$') and u:gln(normalize-space()))">
      <svrl:failed-assert test="matches(normalize-space(), '^[0-9]+$') and u:gln(normalize-space())" id="PEPPOL-COMMON-R040" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>GLN must have a valid format according to GS1 rules.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cbc:EndpointID[@schemeID = '0192'] | cac:PartyIdentification/cbc:ID[@schemeID = '0192'] | cbc:CompanyID[@schemeID = '0192']" mode="pattern-1" priority="2">
    <xsl:if test="not(matches(normalize-space(), '^[0-9]{9}$') and u:mod11(normalize-space()))">
      <svrl:failed-assert test="matches(normalize-space(), '^[0-9]{9}$') and u:mod11(normalize-space())" id="PEPPOL-COMMON-R041" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Norwegian organization number MUST be stated in the correct format.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="cbc:EndpointID[@schemeID = '0184'] | cac:PartyIdentification/cbc:ID[@schemeID = '0184'] | cbc:CompanyID[@schemeID = '0184']" mode="pattern-1" priority="1">
    <xsl:if test="not((string-length(text()) = 10) and (substring(text(), 1, 2) = 'DK') and (string-length(translate(substring(text(), 3, 8), '1234567890', '')) = 0))">
      <svrl:failed-assert test="(string-length(text()) = 10) and (substring(text(), 1, 2) = 'DK') and (string-length(translate(substring(text(), 3, 8), '1234567890', '')) = 0)" id="PEPPOL-COMMON-R042" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Danish organization number (CVR) MUST be stated in the correct format.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-1" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-1"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-1" priority="-1"/>
  <xsl:template match="cac:AccountingSupplierParty/cac:Party[$supplierCountry = 'NO']" mode="pattern-2" priority="1">
    <xsl:if test="not(normalize-space(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'TAX']/cbc:CompanyID) = 'Foretaksregisteret')">
      <svrl:failed-assert test="normalize-space(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'TAX']/cbc:CompanyID) = 'Foretaksregisteret'" id="NO-R-002" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Norwegian suppliers, most invoice issuers are required to append "Foretaksregisteret" to their invoice. "Dersom selger er aksjeselskap, allmennaksjeselskap eller filial av utenlandsk selskap skal også ordet «Foretaksregisteret» fremgå av salgsdokumentet, jf. foretaksregisterloven § 10-2."</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/substring(cbc:CompanyID, 1, 2)='NO' and matches(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/substring(cbc:CompanyID,3), '^[0-9]{9}MVA$')            and u:mod11(substring(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/cbc:CompanyID, 3, 9)) or not(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/substring(cbc:CompanyID, 1, 2)='NO'))">
      <svrl:failed-assert test="cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/substring(cbc:CompanyID, 1, 2)='NO' and matches(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/substring(cbc:CompanyID,3), '^[0-9]{9}MVA$')            and u:mod11(substring(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/cbc:CompanyID, 3, 9)) or not(cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = 'VAT']/substring(cbc:CompanyID, 1, 2)='NO')" id="NO-R-001" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Norwegian suppliers, a VAT number MUST be the country code prefix NO followed by a valid Norwegian organization number (nine numbers) followed by the letters MVA.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-2"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-2" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-2"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-2" priority="-1"/>
  <xsl:variable name="DKSupplierCountry" select="concat(ubl-creditnote:CreditNote/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode, ubl-invoice:Invoice/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode)"/>
  <xsl:variable name="DKCustomerCountry" select="concat(ubl-creditnote:CreditNote/cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode, ubl-invoice:Invoice/cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode)"/>
  <xsl:template match="ubl-creditnote:CreditNote[$DKSupplierCountry = 'DK'] | ubl-invoice:Invoice[$DKSupplierCountry = 'DK']" mode="pattern-3" priority="5">
    <xsl:if test="not((normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID/text()) != ''))">
      <svrl:failed-assert test="(normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID/text()) != '')" id="DK-R-002" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Danish suppliers MUST provide legal entity (CVR-number)</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not(((boolean(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID))           and (normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID/@schemeID) != '0184'))       ))">
      <svrl:failed-assert test="not(((boolean(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID))           and (normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID/@schemeID) != '0184'))       )" id="DK-R-014" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers it is mandatory to specify schemeID as "0184" (DK CVR-number) when PartyLegalEntity/CompanyID is used for AccountingSupplierParty</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cac:TaxScheme/cbc:ID/text()) = 'VAT')       and not ((string-length(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cbc:CompanyID/text()) = 10)          and (substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cbc:CompanyID/text(), 1, 2) = 'DK')          and (string-length(translate(substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cbc:CompanyID/text(), 3, 8), '1234567890', '')) = 0))       or       (normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cac:TaxScheme/cbc:ID/text()) = 'VAT')       and not ((string-length(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cbc:CompanyID/text()) = 10)          and (substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cbc:CompanyID/text(), 1, 2) = 'DK')          and (string-length(translate(substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cbc:CompanyID/text(), 3, 8), '1234567890', '')) = 0))       ))">
      <svrl:failed-assert test="not((normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cac:TaxScheme/cbc:ID/text()) = 'VAT')       and not ((string-length(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cbc:CompanyID/text()) = 10)          and (substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cbc:CompanyID/text(), 1, 2) = 'DK')          and (string-length(translate(substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[1]/cbc:CompanyID/text(), 3, 8), '1234567890', '')) = 0))       or       (normalize-space(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cac:TaxScheme/cbc:ID/text()) = 'VAT')       and not ((string-length(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cbc:CompanyID/text()) = 10)          and (substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cbc:CompanyID/text(), 1, 2) = 'DK')          and (string-length(translate(substring(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[2]/cbc:CompanyID/text(), 3, 8), '1234567890', '')) = 0))       )" id="DK-R-015" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers, if specified, AccountingSupplierParty/PartyTaxScheme/CompanyID (DK VAT number) must start with DK followed by 8 digits</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((boolean(/ubl-creditnote:CreditNote) and ($DKCustomerCountry = 'DK'))       and (number(cac:LegalMonetaryTotal/cbc:PayableAmount/text()) &lt; 0)       ))">
      <svrl:failed-assert test="not((boolean(/ubl-creditnote:CreditNote) and ($DKCustomerCountry = 'DK'))       and (number(cac:LegalMonetaryTotal/cbc:PayableAmount/text()) &lt; 0)       )" id="DK-R-016" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers, a Credit note cannot have a negative total (PayableAmount)</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-3"/>
  </xsl:template>
  <xsl:template match="ubl-creditnote:CreditNote[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification | ubl-creditnote:CreditNote[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification | ubl-invoice:Invoice[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification | ubl-invoice:Invoice[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification" mode="pattern-3" priority="4">
    <xsl:if test="not(not((boolean(cbc:ID))        and (normalize-space(cbc:ID/@schemeID) = '')       ))">
      <svrl:failed-assert test="not((boolean(cbc:ID))        and (normalize-space(cbc:ID/@schemeID) = '')       )" id="DK-R-013" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers it is mandatory to use schemeID when PartyIdentification/ID is used for AccountingCustomerParty or AccountingSupplierParty</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-3"/>
  </xsl:template>
  <xsl:template match="ubl-invoice:Invoice[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:PaymentMeans" mode="pattern-3" priority="3">
    <xsl:if test="not(contains(' 1 10 31 42 48 49 50 58 59 93 97 ', concat(' ', cbc:PaymentMeansCode, ' ')))">
      <svrl:failed-assert test="contains(' 1 10 31 42 48 49 50 58 59 93 97 ', concat(' ', cbc:PaymentMeansCode, ' '))" id="DK-R-005" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish suppliers the following Payment means codes are allowed: 1, 10, 31, 42, 48, 49, 50, 58, 59, 93 and 97</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not(((cbc:PaymentMeansCode = '31') or (cbc:PaymentMeansCode = '42'))       and not((normalize-space(cac:PayeeFinancialAccount/cbc:ID/text()) != '') and (normalize-space(cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID/text()) != ''))       ))">
      <svrl:failed-assert test="not(((cbc:PaymentMeansCode = '31') or (cbc:PaymentMeansCode = '42'))       and not((normalize-space(cac:PayeeFinancialAccount/cbc:ID/text()) != '') and (normalize-space(cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID/text()) != ''))       )" id="DK-R-006" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish suppliers bank account and registration account is mandatory if payment means is 31 or 42</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((cbc:PaymentMeansCode = '49')       and not((normalize-space(cac:PaymentMandate/cbc:ID/text()) != '')           and (normalize-space(cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID/text()) != ''))       ))">
      <svrl:failed-assert test="not((cbc:PaymentMeansCode = '49')       and not((normalize-space(cac:PaymentMandate/cbc:ID/text()) != '')           and (normalize-space(cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID/text()) != ''))       )" id="DK-R-007" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish suppliers PaymentMandate/ID and PayerFinancialAccount/ID are mandatory when payment means is 49</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((cbc:PaymentMeansCode = '50')       and not(((substring(cbc:PaymentID, 1, 3) = '01#')           or (substring(cbc:PaymentID, 1, 3) = '04#')           or (substring(cbc:PaymentID, 1, 3) = '15#'))         and (string-length(cac:PayeeFinancialAccount/cbc:ID/text()) = 7)         )       ))">
      <svrl:failed-assert test="not((cbc:PaymentMeansCode = '50')       and not(((substring(cbc:PaymentID, 1, 3) = '01#')           or (substring(cbc:PaymentID, 1, 3) = '04#')           or (substring(cbc:PaymentID, 1, 3) = '15#'))         and (string-length(cac:PayeeFinancialAccount/cbc:ID/text()) = 7)         )       )" id="DK-R-008" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers PaymentID is mandatory and MUST start with 01#, 04# or 15# (kortartkode), and PayeeFinancialAccount/ID (Giro kontonummer) is mandatory and must be 7 characters long, when payment means equals 50 (Giro)</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((cbc:PaymentMeansCode = '50')       and ((substring(cbc:PaymentID, 1, 3) = '04#')          or (substring(cbc:PaymentID, 1, 3)  = '15#'))       and not(string-length(cbc:PaymentID) = 19)       ))">
      <svrl:failed-assert test="not((cbc:PaymentMeansCode = '50')       and ((substring(cbc:PaymentID, 1, 3) = '04#')          or (substring(cbc:PaymentID, 1, 3)  = '15#'))       and not(string-length(cbc:PaymentID) = 19)       )" id="DK-R-009" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers if the PaymentID is prefixed with 04# or 15# the 16 digits instruction Id must be added to the PaymentID eg. "04#1234567890123456" when Payment means equals 50 (Giro)</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((cbc:PaymentMeansCode = '93')       and not(((substring(cbc:PaymentID, 1, 3) = '71#')           or (substring(cbc:PaymentID, 1, 3) = '73#')           or (substring(cbc:PaymentID, 1, 3) = '75#'))         and (string-length(cac:PayeeFinancialAccount/cbc:ID/text()) = 8)         )       ))">
      <svrl:failed-assert test="not((cbc:PaymentMeansCode = '93')       and not(((substring(cbc:PaymentID, 1, 3) = '71#')           or (substring(cbc:PaymentID, 1, 3) = '73#')           or (substring(cbc:PaymentID, 1, 3) = '75#'))         and (string-length(cac:PayeeFinancialAccount/cbc:ID/text()) = 8)         )       )" id="DK-R-010" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers the PaymentID is mandatory and MUST start with 71#, 73# or 75# (kortartkode) and PayeeFinancialAccount/ID (Kreditornummer) is mandatory and must be exactly 8 characters long, when Payment means equals 93 (FIK)</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(not((cbc:PaymentMeansCode = '93')       and ((substring(cbc:PaymentID, 1, 3) = '71#')          or (substring(cbc:PaymentID, 1, 3)  = '75#'))       and not((string-length(cbc:PaymentID) = 18)          or (string-length(cbc:PaymentID) = 19))       ))">
      <svrl:failed-assert test="not((cbc:PaymentMeansCode = '93')       and ((substring(cbc:PaymentID, 1, 3) = '71#')          or (substring(cbc:PaymentID, 1, 3)  = '75#'))       and not((string-length(cbc:PaymentID) = 18)          or (string-length(cbc:PaymentID) = 19))       )" id="DK-R-011" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Danish Suppliers if the PaymentID is prefixed with 71# or 75# the 15-16 digits instruction Id must be added to the PaymentID eg. "71#1234567890123456" when payment Method equals 93 (FIK)</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-3"/>
  </xsl:template>
  <xsl:template match="ubl-creditnote:CreditNote[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:CreditNoteLine | ubl-invoice:Invoice[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']/cac:InvoiceLine" mode="pattern-3" priority="2">
    <xsl:if test="not(not((cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode/@listID = 'TST')       and not((cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode/@listVersionID = '19.05.01')           or (cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode/@listVersionID = '19.0501')           )       ))">
      <svrl:failed-assert test="not((cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode/@listID = 'TST')       and not((cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode/@listVersionID = '19.05.01')           or (cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode/@listVersionID = '19.0501')           )       )" id="DK-R-003" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>If ItemClassification is provided from Danish suppliers, UNSPSC version 19.0501 should be used.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-3"/>
  </xsl:template>
  <xsl:template match="cac:AllowanceCharge[$DKSupplierCountry = 'DK' and $DKCustomerCountry = 'DK']" mode="pattern-3" priority="1">
    <xsl:if test="not(not((cbc:AllowanceChargeReasonCode = 'ZZZ')       and not((string-length(normalize-space(cbc:AllowanceChargeReason/text())) = 4)         and (number(cbc:AllowanceChargeReason) &gt;= 0)         and (number(cbc:AllowanceChargeReason) &lt;= 9999))       ))">
      <svrl:failed-assert test="not((cbc:AllowanceChargeReasonCode = 'ZZZ')       and not((string-length(normalize-space(cbc:AllowanceChargeReason/text())) = 4)         and (number(cbc:AllowanceChargeReason) &gt;= 0)         and (number(cbc:AllowanceChargeReason) &lt;= 9999))       )" id="DK-R-004" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>When specifying non-VAT Taxes, Danish suppliers MUST use the AllowanceChargeReasonCode="ZZZ" and the 4-digit Tax category MUST be specified in 'AllowanceChargeReason'</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-3"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-3" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-3"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-3" priority="-1"/>
  <xsl:template match="cac:AccountingSupplierParty/cac:Party[$supplierCountry = 'IT']/cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) != 'VAT']" mode="pattern-4" priority="2">
    <xsl:if test="not(matches(normalize-space(cbc:CompanyID),'^[A-Z0-9]{11,16}$'))">
      <svrl:failed-assert test="matches(normalize-space(cbc:CompanyID),'^[A-Z0-9]{11,16}$')" id="IT-R-001" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>[IT-R-001] BT-32 (Seller tax registration identifier) - For Italian suppliers BT-32 minimum length 11 and maximum length shall be 16. Per i fornitori italiani il BT-32 deve avere una lunghezza tra 11 e 16 caratteri</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-4"/>
  </xsl:template>
  <xsl:template match="cac:AccountingSupplierParty/cac:Party[$supplierCountry = 'IT']" mode="pattern-4" priority="1">
    <xsl:if test="not(cac:PostalAddress/cbc:StreetName)">
      <svrl:failed-assert test="cac:PostalAddress/cbc:StreetName" id="IT-R-002" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>[IT-R-002] BT-35 (Seller address line 1) - Italian suppliers MUST provide the postal address line 1 - I fornitori italiani devono indicare l'indirizzo postale.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(cac:PostalAddress/cbc:CityName)">
      <svrl:failed-assert test="cac:PostalAddress/cbc:CityName" id="IT-R-003" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>[IT-R-003] BT-37 (Seller city) - Italian suppliers MUST provide the postal address city - I fornitori italiani devono indicare la città di residenza.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(cac:PostalAddress/cbc:PostalZone)">
      <svrl:failed-assert test="cac:PostalAddress/cbc:PostalZone" id="IT-R-004" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>"&gt; [IT-R-004] BT-38 (Seller post code) - Italian suppliers MUST provide the postal address post code - I fornitori italiani devono indicare il CAP di residenza.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-4"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-4" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-4"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-4" priority="-1"/>
  <xsl:template match="//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE' and cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2) = 'SE']" mode="pattern-5" priority="7">
    <xsl:if test="not(string-length(normalize-space(cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID)) = 14)">
      <svrl:failed-assert test="string-length(normalize-space(cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID)) = 14" id="SE-R-001" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers, Swedish VAT-numbers must consist of 14 characters.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(string(number(substring(cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID, 3, 12))) != 'NaN')">
      <svrl:failed-assert test="string(number(substring(cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID, 3, 12))) != 'NaN'" id="SE-R-002" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers, the Swedish VAT-numbers must have the trailing 12 characters in numeric form</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="//cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity[../cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE' and cbc:CompanyID]" mode="pattern-5" priority="6">
    <xsl:if test="not(string(number(cbc:CompanyID)) != 'NaN')">
      <svrl:failed-assert test="string(number(cbc:CompanyID)) != 'NaN'" id="SE-R-003" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Swedish organisation numbers should be numeric.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(string-length(normalize-space(cbc:CompanyID)) = 10)">
      <svrl:failed-assert test="string-length(normalize-space(cbc:CompanyID)) = 10" id="SE-R-004" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Swedish organisation numbers consist of 10 characters.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE' and exists(cac:PartyLegalEntity/cbc:CompanyID)]/cac:PartyTaxScheme[normalize-space(upper-case(cac:TaxScheme/cbc:ID)) != 'VAT']/cbc:CompanyID" mode="pattern-5" priority="5">
    <xsl:if test="not(normalize-space(upper-case(.)) = 'GODKÄND FÖR F-SKATT')">
      <svrl:failed-assert test="normalize-space(upper-case(.)) = 'GODKÄND FÖR F-SKATT'" id="SE-R-005" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers, when using Seller tax registration identifier, 'Godkänd för F-skatt' must be stated</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="//cac:TaxCategory[//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE' and cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2) = 'SE'] and cbc:ID = 'S'] | //cac:ClassifiedTaxCategory[//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE' and cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2) = 'SE'] and cbc:ID = 'S']" mode="pattern-5" priority="4">
    <xsl:if test="not(number(cbc:Percent) = 25 or number(cbc:Percent) = 12 or number(cbc:Percent) = 6)">
      <svrl:failed-assert test="number(cbc:Percent) = 25 or number(cbc:Percent) = 12 or number(cbc:Percent) = 6" id="SE-R-006" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers, only standard VAT rate of 6, 12 or 25 are used</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="//cac:PaymentMeans[//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE'] and normalize-space(cbc:PaymentMeansCode) = '30' and normalize-space(cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID) = 'SE:PLUSGIRO']/cac:PayeeFinancialAccount/cbc:ID" mode="pattern-5" priority="3">
    <xsl:if test="not(string(number(normalize-space(.))) != 'NaN')">
      <svrl:failed-assert test="string(number(normalize-space(.))) != 'NaN'" id="SE-R-007" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers using Plusgiro, the Account ID must be numeric</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(string-length(normalize-space(.)) &gt;= 2 and string-length(normalize-space(.)) &lt;= 8)">
      <svrl:failed-assert test="string-length(normalize-space(.)) &gt;= 2 and string-length(normalize-space(.)) &lt;= 8" id="SE-R-010" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers using Plusgiro, the Account ID must have 2-8 characters</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="//cac:PaymentMeans[//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE'] and normalize-space(cbc:PaymentMeansCode) = '30' and normalize-space(cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID) = 'SE:BANKGIRO']/cac:PayeeFinancialAccount/cbc:ID" mode="pattern-5" priority="2">
    <xsl:if test="not(string(number(normalize-space(.))) != 'NaN')">
      <svrl:failed-assert test="string(number(normalize-space(.))) != 'NaN'" id="SE-R-008" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers using Bankgiro, the Account ID must be numeric</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:if test="not(string-length(normalize-space(.)) = 7 or string-length(normalize-space(.)) = 8)">
      <svrl:failed-assert test="string-length(normalize-space(.)) = 7 or string-length(normalize-space(.)) = 8" id="SE-R-009" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers using Bankgiro, the Account ID must have 7-8 characters</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="//cac:PaymentMeans[//cac:AccountingSupplierParty/cac:Party[cac:PostalAddress/cac:Country/cbc:IdentificationCode = 'SE'] and (cbc:PaymentMeansCode = normalize-space('50') or cbc:PaymentMeansCode = normalize-space('56'))]" mode="pattern-5" priority="1">
    <xsl:if test="not(false())">
      <svrl:failed-assert test="false()" id="SE-R-011" flag="warning">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>For Swedish suppliers using Swedish Bankgiro or Plusgiro, the proper way to indicate this is to use Code 30 for PaymentMeans and FinancialInstitutionBranch ID with code SE:BANKGIRO or SE:PLUSGIRO</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-5" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-5"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-5" priority="-1"/>
  <xsl:variable name="ISO3166" select="tokenize('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW', '\s')"/>
  <xsl:variable name="ISO4217" select="tokenize('AFN EUR ALL DZD USD AOA XCD XCD ARS AMD AWG AUD AZN BSD BHD BDT BBD BYN BZD XOF BMD INR BTN BOB BOV USD BAM BWP NOK BRL USD BND BGN XOF BIF CVE KHR XAF CAD KYD XAF XAF CLP CLF CNY AUD AUD COP COU KMF CDF XAF NZD CRC XOF HRK CUP CUC ANG CZK DKK DJF XCD DOP USD EGP SVC USD XAF ERN ETB FKP DKK FJD XPF XAF GMD GEL GHS GIP DKK XCD USD GTQ GBP GNF XOF GYD HTG USD AUD HNL HKD HUF ISK INR IDR XDR IRR IQD GBP ILS JMD JPY GBP JOD KZT KES AUD KPW KRW KWD KGS LAK LBP LSL ZAR LRD LYD CHF MOP MKD MGA MWK MYR MVR XOF USD MRO MUR XUA MXN MXV USD MDL MNT XCD MAD MZN MMK NAD ZAR AUD NPR XPF NZD NIO XOF NGN NZD AUD USD NOK OMR PKR USD PAB USD PGK PYG PEN PHP NZD PLN USD QAR RON RUB RWF SHP XCD XCD XCD WST STD SAR XOF RSD SCR SLL SGD ANG XSU SBD SOS ZAR SSP LKR SDG SRD NOK SZL SEK CHF CHE CHW SYP TWD TJS TZS THB USD XOF NZD TOP TTD TND TRY TMT USD AUD UGX UAH AED GBP USD USD USN UYU UYI UZS VUV VEF VND USD USD XPF MAD YER ZMW ZWL XBA XBB XBC XBD XTS XXX XAU XPD XPT XAG', '\s')"/>
  <xsl:variable name="MIMECODE" select="tokenize('application/pdf image/png image/jpeg text/csv application/vnd.openxmlformats-officedocument.spreadsheetml.sheet application/vnd.oasis.opendocument.spreadsheet', '\s')"/>
  <xsl:variable name="UNCL2005" select="tokenize('3 35 432', '\s')"/>
  <xsl:variable name="UNCL5189" select="tokenize('41 42 60 62 63 64 65 66 67 68 70 71 88 95 100 102 103 104 105', '\s')"/>
  <xsl:variable name="UNCL7161" select="tokenize('AA AAA AAC AAD AAE AAF AAH AAI AAS AAT AAV AAY AAZ ABA ABB ABC ABD ABF ABK ABL ABN ABR ABS ABT ABU ACF ACG ACH ACI ACJ ACK ACL ACM ACS ADC ADE ADJ ADK ADL ADM ADN ADO ADP ADQ ADR ADT ADW ADY ADZ AEA AEB AEC AED AEF AEH AEI AEJ AEK AEL AEM AEN AEO AEP AES AET AEU AEV AEW AEX AEY AEZ AJ AU CA CAB CAD CAE CAF CAI CAJ CAK CAL CAM CAN CAO CAP CAQ CAR CAS CAT CAU CAV CAW CD CG CS CT DAB DAD DL EG EP ER FAA FAB FAC FC FH FI GAA HAA HD HH IAA IAB ID IF IR IS KO L1 LA LAA LAB LF MAE MI ML NAA OA PA PAA PC PL RAB RAC RAD RAF RE RF RH RV SA SAA SAD SAE SAI SG SH SM SU TAB TAC TT TV V1 V2 WH XAA YY ZZZ', '\s')"/>
  <xsl:variable name="UNCL5305" select="tokenize('AE E S Z G O K L M', '\s')"/>
  <xsl:variable name="eaid" select="tokenize('0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0183 0184 0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 9901 9906 9907 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9955 9956 9957 9958', '\s')"/>
  <xsl:template match="cbc:EmbeddedDocumentBinaryObject[@mimeCode]" mode="pattern-6" priority="9">
    <xsl:if test="not(           some $code in $MIMECODE             satisfies @mimeCode = $code)">
      <svrl:failed-assert test="           some $code in $MIMECODE             satisfies @mimeCode = $code" id="PEPPOL-EN16931-CL001" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Mime code must be according to subset of IANA code list.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cac:AllowanceCharge[cbc:ChargeIndicator = 'false']/cbc:AllowanceChargeReasonCode" mode="pattern-6" priority="8">
    <xsl:if test="not(           some $code in $UNCL5189             satisfies normalize-space(text()) = $code)">
      <svrl:failed-assert test="           some $code in $UNCL5189             satisfies normalize-space(text()) = $code" id="PEPPOL-EN16931-CL002" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Reason code MUST be according to subset of UNCL 5189 D.16B.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cac:AllowanceCharge[cbc:ChargeIndicator = 'true']/cbc:AllowanceChargeReasonCode" mode="pattern-6" priority="7">
    <xsl:if test="not(           some $code in $UNCL7161             satisfies normalize-space(text()) = $code)">
      <svrl:failed-assert test="           some $code in $UNCL7161             satisfies normalize-space(text()) = $code" id="PEPPOL-EN16931-CL003" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Reason code MUST be according to UNCL 7161 D.16B.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cac:InvoicePeriod/cbc:DescriptionCode" mode="pattern-6" priority="6">
    <xsl:if test="not(           some $code in $UNCL2005             satisfies normalize-space(text()) = $code)">
      <svrl:failed-assert test="           some $code in $UNCL2005             satisfies normalize-space(text()) = $code" id="PEPPOL-EN16931-CL006" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Invoice period description code must be according to UNCL 2005 D.16B.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cbc:Amount | cbc:BaseAmount | cbc:PriceAmount | cbc:TaxAmount | cbc:TaxableAmount | cbc:LineExtensionAmount | cbc:TaxExclusiveAmount | cbc:TaxInclusiveAmount | cbc:AllowanceTotalAmount | cbc:ChargeTotalAmount | cbc:PrepaidAmount | cbc:PayableRoundingAmount | cbc:PayableAmount" mode="pattern-6" priority="5">
    <xsl:if test="not(           some $code in $ISO4217             satisfies @currencyID = $code)">
      <svrl:failed-assert test="           some $code in $ISO4217             satisfies @currencyID = $code" id="PEPPOL-EN16931-CL007" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Currency code must be according to ISO 4217:2005</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cbc:InvoiceTypeCode" mode="pattern-6" priority="4">
    <xsl:if test="not(           $profile != '01' or (some $code in tokenize('380 383 386 393 82 80 84 395 575 623 780', '\s')             satisfies normalize-space(text()) = $code))">
      <svrl:failed-assert test="           $profile != '01' or (some $code in tokenize('380 383 386 393 82 80 84 395 575 623 780', '\s')             satisfies normalize-space(text()) = $code)" id="PEPPOL-EN16931-P0100" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Invoice type code MUST be set according to the profile.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cbc:CreditNoteTypeCode" mode="pattern-6" priority="3">
    <xsl:if test="not(           $profile != '01' or (some $code in tokenize('381 396 81 83 532', '\s')             satisfies normalize-space(text()) = $code))">
      <svrl:failed-assert test="           $profile != '01' or (some $code in tokenize('381 396 81 83 532', '\s')             satisfies normalize-space(text()) = $code)" id="PEPPOL-EN16931-P0101" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Credit note type code MUST be set according to the profile.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cbc:IssueDate | cbc:DueDate | cbc:TaxPointDate | cbc:StartDate | cbc:EndDate | cbc:ActualDeliveryDate" mode="pattern-6" priority="2">
    <xsl:if test="not(string-length(text()) = 10 and (string(.) castable as xs:date))">
      <svrl:failed-assert test="string-length(text()) = 10 and (string(.) castable as xs:date)" id="PEPPOL-EN16931-F001" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>A date MUST be formatted YYYY-MM-DD.</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="cbc:EndpointID[@schemeID]" mode="pattern-6" priority="1">
    <xsl:if test="not(         some $code in $eaid         satisfies @schemeID = $code)">
      <svrl:failed-assert test="         some $code in $eaid         satisfies @schemeID = $code" id="PEPPOL-EN16931-CL008" flag="fatal">
        <xsl:attribute name="location" select="path()"/>
        <svrl:text>Electronic address identifier scheme must be from the codelist "Electronic Address Identifier Scheme"</svrl:text>
      </svrl:failed-assert>
    </xsl:if>
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="@*|node()" mode="pattern-6" priority="-2">
    <xsl:apply-templates select="@*|node()" mode="pattern-6"/>
  </xsl:template>
  <xsl:template match="text()" mode="pattern-6" priority="-1"/>
</xsl:stylesheet>
